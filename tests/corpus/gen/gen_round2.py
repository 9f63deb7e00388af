# gen_round2.py - whole messages for issue 19 (parsing real clients break)
# and the unique Message-ID form of issue 16: References as one quoted
# string or a comma list, In-Reply-To naming a notification's unique
# Message-ID, a multipart whose boundary never appears, Windows Mail's quote
# block, Shift_JIS / CP932 / EUC-JP bytes below 0x80, an unmarked
# <blockquote>, X-Delivered-To and X-Forwarded-To, and the never-empty rule.
from clients import *
from gen_gmail import exp

DATE = 'Sat, 21 Nov 2026 15:13:00 +0100'
RCV = [received('mx.reply.example.com', 'relay.example.org')]


def top_lines(name, to, extra=(), sender='Sam Jones <sam@example.org>', subject='Re: [acme/widgets] Build fails on ARM'):
    return list(RCV) + list(extra) + [
        'Message-ID: <%s@example.org>' % hashlib.md5(name.encode()).hexdigest()[:16], f'Date: {DATE}',
        'MIME-Version: 1.0', f'Subject: {subject}', f'From: {sender}', f'To: {to}']


def plain(name, to, text, expect, extra=(), charset='UTF-8', raw=None, ctype=None, cte='8bit'):
    top = top_lines(name, to, extra)
    top += [f'Content-Type: {ctype or "text/plain; charset=" + charset}', f'Content-Transfer-Encoding: {cte}']
    body = crlf(text).encode('utf-8') if raw is None else raw
    write(name, top, body, expect)


def uniq(kind, target, user, suffix):
    local, _, domain = addr(kind, target, user).rpartition('@')
    return f'{local}.{suffix}@{domain}'


REPLY = 'Thanks, fixed on my side.'
ATTR = '\n\nOn 21/11/2026 15:12, Tracker wrote:\n' + quote(NOTE)

# ---- References and In-Reply-To as real clients write them ------------------
a = addr('i', 140, 110)
plain('refs-exchange-quoted-string', f'Tracker <{DEDICATED}>', REPLY + ATTR,
      exp(REPLY, key('i', 140, 110, 'references'), recipient=DEDICATED,
          references=['first@tracker.example.com', a, 'other@example.org']),
      extra=[f'References: "<first@tracker.example.com>,<{a}>,<other@example.org>"'])
a = addr('i', 141, 111)
plain('refs-ios-quoted-in-reply-to', f'Tracker <{DEDICATED}>', REPLY + ATTR,
      exp(REPLY, key('i', 141, 111, 'references'), recipient=DEDICATED, in_reply_to=a,
          references=[a]),
      extra=[f'In-Reply-To: "<{a}>"', f'References: "<{a}>"'])
a = addr('c', 142, 112)
plain('refs-comma-list-key-not-first', f'Tracker <{DEDICATED}>', REPLY + ATTR,
      exp(REPLY, key('c', 142, 112, 'references'), recipient=DEDICATED,
          references=['first@tracker.example.com', a, 'third@example.org']),
      extra=[f'References: <first@tracker.example.com>,<{a}>,<third@example.org>'])
u = uniq('i', 143, 113, '20261206T120000Z.8f3a0c1d2e4b5a69')
plain('refs-unique-message-id', f'Tracker <{DEDICATED}>', REPLY + ATTR,
      exp(REPLY, key('i', 143, 113, 'references'), recipient=DEDICATED, in_reply_to=u),
      extra=[f'In-Reply-To: <{u}>', f'References: <thread-start@tracker.example.com> <{u}>'])
u = uniq('p', 144, 114, '1733450000.42')
plain('refs-unique-message-id-upper-in-references', f'Tracker <{DEDICATED}>', REPLY + ATTR,
      exp(REPLY, key('p', 144, 114, 'references'), recipient=DEDICATED),
      extra=[f'References: <{u.upper()}>'])
u = uniq('i', 145, 115, 'x+y')
plain('refs-unique-bad-suffix-refused', f'Tracker <{DEDICATED}>', REPLY + ATTR,
      exp(None, None, exit=67, status='5.1.1', recipient=DEDICATED),
      extra=[f'In-Reply-To: <{u}>'])

# ---- X-Delivered-To and X-Forwarded-To (SPEC section 3) ----------------------
a = addr('i', 146, 116)
plain('key-x-delivered-to', 'Team <team@example.org>', REPLY + ATTR,
      exp(REPLY, key('i', 146, 116, 'x-delivered-to'), recipient=DEDICATED),
      extra=[f'X-Delivered-To: {a}'])
a = addr('i', 147, 117)
plain('key-x-forwarded-to', 'Team <team@example.org>', REPLY + ATTR,
      exp(REPLY, key('i', 147, 117, 'x-forwarded-to'), recipient=DEDICATED),
      extra=[f'X-Forwarded-To: {a}', 'X-Forwarded-For: sam@example.org ' + a])

# ---- A multipart whose boundary never appears --------------------------------
a = addr('i', 148, 118)
text = 'The release is fine by me.\r\n\r\nOn 21/11/2026 15:12, Tracker wrote:\r\n> Ship it?\r\n'
plain('multipart-boundary-never-appears', f'Tracker <{a}>', '', exp('The release is fine by me.',
      key('i', 148, 118, 'envelope'), recipient=a),
      ctype='multipart/alternative; boundary="000000000000a1b2c3d4e5f6"', raw=text.encode())
a = addr('i', 149, 119)
png = bytes.fromhex('89504e470d0a1a0a')
body = ('--Apple-Mail-REAL\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nScreenshot attached.\r\n\r\n'
        'On 21/11/2026 15:12, Tracker wrote:\r\n> Ship it?\r\n--Apple-Mail-REAL\r\n'
        'Content-Type: image/png; name=shot.png\r\nContent-Disposition: attachment; filename=shot.png\r\n'
        'Content-Transfer-Encoding: base64\r\n\r\n' + b64(png) + '\r\n--Apple-Mail-REAL--\r\n')
plain('multipart-wrong-boundary', f'Tracker <{a}>', '', exp('Screenshot attached.',
      key('i', 149, 119, 'envelope'), recipient=a,
      attachments=[{'filename': 'shot.png', 'content_type': 'image/png', 'size': len(png), 'sha256': sha(png)}]),
      ctype='multipart/mixed; boundary="Apple-Mail-WRONG"', raw=body.encode())
a = addr('i', 150, 120)
text = ('Thanks, this works.\r\n\r\n--\r\nSam\r\n\r\n> Ship it?\r\n')
plain('multipart-truncated-before-first-boundary', f'Tracker <{a}>', '', exp('Thanks, this works.',
      key('i', 150, 120, 'envelope'), recipient=a),
      ctype='multipart/mixed; boundary="----=_Part_1234_5678.1733450000"', raw=text.encode())

# ---- Windows Mail: From, Sent, To and no Subject ------------------------------
for lang, reply, keys, date in [
        ('en', 'Works now, thanks.', ('From', 'Sent', 'To'), 'Saturday, November 21, 2026 3:12 PM'),
        ('de', 'Geht jetzt, danke.', ('Von', 'Gesendet', 'An'), 'Samstag, 21. November 2026 15:12'),
        ('fr', 'Ça marche, merci.', ('De\u00a0', 'Envoyé\u00a0', 'À\u00a0'), 'samedi 21 novembre 2026 15:12'),
        ('es', 'Ya funciona, gracias.', ('De', 'Enviado', 'Para'), 'sábado, 21 de noviembre de 2026 15:12')]:
    a = addr('i', 151, 121)
    block = f'{keys[0]}: Tracker<mailto:{a}>\n{keys[1]}: {date}\n{keys[2]}: Sam Jones<mailto:sam@example.org>\n\n'
    sig = 'Sent from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for Windows\n\n' if lang == 'en' else ''
    plain(f'windows-mail-{lang}-no-subject', f'Tracker <{a}>', reply + '\n\n' + sig + block + NOTE,
          exp(reply, key('i', 151, 121, 'envelope'), recipient=a),
          extra=['X-Mailer: Microsoft Windows Mail 16.0.14326.21630'])

# ---- Japanese legacy charsets: bytes below 0x80 are ASCII (WHATWG) -----------
ja = 'パスは C:\\Users\\taro\\build です。~/.config も確認しました。'
for name, charset, codec in [('shift-jis', 'Shift_JIS', 'cp932'), ('cp932', 'Windows-31J', 'cp932'),
                             ('euc-jp', 'EUC-JP', 'euc_jp')]:
    a = addr('i', 152, 122)
    raw = crlf(ja + '\n\n2026/11/21 15:12、Tracker <t@example.jp>のメール:\n> 確認できますか？\n').encode(codec)
    plain(f'japanese-{name}-ascii-bytes', f'Tracker <{a}>', '', exp(ja, key('i', 152, 122, 'envelope'), recipient=a),
          charset=charset, raw=raw)
a = addr('i', 153, 123)
# ISO-2022-JP's own escape to JIS-Roman (ESC ( J) maps 0x5C and 0x7E to the
# yen sign and the overline, in WHATWG's decoder as in glibc: left as it is.
raw = (b'\x1b$B%Q%9\x1b(B C:\\tmp \x1b(J\\100 ~\x1b(B ok\r\n')
plain('japanese-iso-2022-jp-jis-roman', f'Tracker <{a}>', '', exp('パス C:\\tmp ¥100 ‾ ok', key('i', 153, 123, 'envelope'),
      recipient=a), charset='ISO-2022-JP', raw=raw, cte='7bit')

# ---- HTML only: an unmarked <blockquote>, the whole text in a quote block ----
a = addr('i', 154, 124)
html = ('<html><body><div>The manual says:</div><blockquote>Every reply is stored once.</blockquote>'
        '<div>So the second row is a bug.</div><blockquote>Sent twice, stored twice.</blockquote>'
        '<div class="gmail_quote"><div class="gmail_attr">On Sat, Nov 21, 2026 at 3:12 PM Tracker &lt;'
        + a + '&gt; wrote:<br></div><blockquote class="gmail_quote">Is it stored once?</blockquote></div></body></html>')
plain('html-unmarked-blockquote-kept', f'Tracker <{a}>', html,
      exp('The manual says:\n> Every reply is stored once.\nSo the second row is a bug.\n> Sent twice, stored twice.',
          key('i', 154, 124, 'envelope'), recipient=a), ctype='text/html; charset=utf-8')
a = addr('i', 155, 125)
html = ('<div class="gmail_quote"><div class="gmail_attr">On Sat, Nov 21, 2026 at 3:12 PM Tracker &lt;' + a +
        '&gt; wrote:<br></div><div>Yes, ship it on Monday.</div></div>')
plain('html-never-empty-all-in-quote', f'Tracker <{a}>', html,
      exp('Yes, ship it on Monday.', key('i', 155, 125, 'envelope'), recipient=a), ctype='text/html; charset=utf-8')

# ---- Never empty: a leading header, unquoted paragraphs below ---------------
a = addr('i', 156, 126)
plain('never-empty-leading-header', f'Tracker <{a}>',
      'On 8 May 2017 17:34, "Tracker" <' + a + '> wrote:\n\nI think we should ship it on Monday.\n\n'
      'The tests pass on my side.\n\nSent from my Samsung Galaxy smartphone.\n',
      exp('I think we should ship it on Monday.\n\nThe tests pass on my side.', key('i', 156, 126, 'envelope'),
          recipient=a))
