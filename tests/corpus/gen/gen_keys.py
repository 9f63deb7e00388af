from clients import *
from gen_gmail import exp

DATE = 'Sat, 21 Nov 2026 15:13:00 +0100'

def simple(name, top_extra, to, reply='Thanks, fixed on my side.', recipient=DEDICATED, expect_key=None,
           sender='sam@example.org', extra_expect=None, refs=None, irt=None, cc=None, body=None, exit=None,
           status=None, reply_expect=None, ctype='text/plain; charset=UTF-8; format=flowed'):
    top = list(top_extra) + [
        'Message-ID: <%s@example.org>' % hashlib.md5(name.encode()).hexdigest()[:16], f'Date: {DATE}',
        'MIME-Version: 1.0', 'User-Agent: Mozilla Thunderbird', 'Subject: Re: [acme/widgets] Build fails on ARM',
        f'From: Sam Jones <{sender or "sam@example.org"}>', f'To: {to}']
    if cc:
        top.append(f'Cc: {cc}')
    if irt:
        top.append(f'In-Reply-To: {irt}')
    if refs:
        top.append(f'References: {refs}')
    top += [f'Content-Type: {ctype}', 'Content-Transfer-Encoding: 7bit']
    text = body if body is not None else reply + '\n\nOn 21/11/2026 15:12, Tracker wrote:\n' + quote(NOTE)
    e = {'exit': 0 if exit is None else exit, 'status': status or '2.0.0', 'key': expect_key,
         'recipient': recipient, 'sender': sender}
    if reply_expect is not False:
        e['reply_text'] = reply if reply_expect is None else reply_expect
    if extra_expect:
        e.update(extra_expect)
    write(name, top, crlf(text), e)

A = lambda k, t, u: addr(k, t, u)
NOREPLY_NOTIF = '<notification-4711@tracker.example.com>'

# Each source of SPEC section 3, the key only there.
simple('key-received-for', [received('mx.reply.example.com', 'relay.example.org', A('i', 110, 80)),
                            received('relay.example.org', 'laptop.example.org', A('i', 111, 81))],
       f'Tracker <{DEDICATED}>', expect_key=key('i', 110, 80, 'received'), refs=NOREPLY_NOTIF)
simple('key-cc', [received('mx.reply.example.com', 'relay.example.org')], 'dev@lists.example.org',
       cc=f'Tracker <{A("i", 112, 82)}>, Bob <bob@example.org>', expect_key=key('i', 112, 82, 'cc'))
simple('key-references', [received('mx.reply.example.com', 'relay.example.org')], f'Tracker <{DEDICATED}>',
       refs=f'<first-thread-msg@example.org> <{A("i", 113, 83)}>\r\n <other@example.org>', irt='<other@example.org>',
       expect_key=key('i', 113, 83, 'references'))
simple('key-in-reply-to', [received('mx.reply.example.com', 'relay.example.org')], f'Tracker <{DEDICATED}>',
       irt=f'<{A("c", 114, 84)}>', expect_key=key('c', 114, 84, 'references'))
simple('key-static-address', [received('mx.reply.example.com', 'relay.example.org')], 'Support <support@reply.example.com>',
       recipient='support@reply.example.com', expect_key=key('s', 7, 0, 'envelope'))
simple('key-uppercase-to', [received('mx.reply.example.com', 'relay.example.org')],
       'Tracker <' + A('i', 115, 85).upper().replace('@REPLY.EXAMPLE.COM', '@Reply.Example.Com') + '>',
       expect_key=key('i', 115, 85, 'to'))
simple('key-first-match-wins', [received('mx.reply.example.com', 'relay.example.org', A('i', 116, 99))],
       f'Tracker <{A("i", 116, 86)}>', cc=f'<{A("i", 117, 87)}>', refs=f'<{A("i", 118, 88)}>',
       expect_key=key('i', 116, 86, 'to'))
simple('key-envelope-wins', [received('mx.reply.example.com', 'relay.example.org')],
       f'Tracker <{A("i", 119, 89)}>', recipient=A('i', 120, 90), expect_key=key('i', 120, 90, 'envelope'))
# A key-shaped address in a foreign domain, and a bad mac, are skipped.
good = A('i', 121, 91)
foreign = good.replace('@reply.example.com', '@reply.example.org')
badmac = A('i', 122, 92).replace('-92@', '-93@')
simple('key-foreign-domain-skipped', [received('mx.reply.example.com', 'relay.example.org')], f'<{foreign}>',
       cc=f'Tracker <{good}>', expect_key=key('i', 121, 91, 'cc'))
simple('key-bad-mac-skipped', [received('mx.reply.example.com', 'relay.example.org'), 'Delivered-To: ' + good],
       f'Tracker <{badmac}>', expect_key=key('i', 121, 91, 'delivered-to'))

# The second configured reply domain verifies like the first.
simple('key-second-reply-domain', [received('mx.reply.example.com', 'relay.example.org')], 'Tracker <tracker@example.net>',
       recipient=A('m', 123, 93).replace('reply.example.com', 'reply.example.net'),
       expect_key=key('m', 123, 93, 'envelope'))

# ---- no key ---------------------------------------------------------------
simple('nokey-foreign-only', [received('mx.reply.example.com', 'relay.example.org')], 'Bob <bob@example.org>',
       refs=NOREPLY_NOTIF, irt=NOREPLY_NOTIF, exit=67, status='5.1.1', reply_expect=False)
simple('nokey-bad-mac-everywhere', [received('mx.reply.example.com', 'relay.example.org', badmac), 'Delivered-To: ' + badmac],
       f'Tracker <{badmac}>', recipient=badmac, refs=f'<{badmac}>', exit=67, status='5.1.1', reply_expect=False)
simple('nokey-noreply-address', [received('mx.reply.example.com', 'relay.example.org')], 'Tracker <noreply@reply.example.com>',
       recipient='noreply@reply.example.com', exit=67, status='5.1.1', reply_expect=False)
simple('nokey-malformed-key', [received('mx.reply.example.com', 'relay.example.org')],
       'Tracker <reply+i-0124-' + mac('i', 124, 94) + '-94@reply.example.com>',
       recipient='reply+i-124-' + mac('i', 124, 94)[:39] + '-94@reply.example.com', exit=67, status='5.1.1', reply_expect=False)

# ---- auto-submitted (SPEC section 4) -------------------------------------------
k = A('i', 130, 100)
K = key('i', 130, 100, 'envelope')
def auto(name, hdrs, reason, sender='sam@example.org', body='I am away until Monday.\n'):
    simple(name, [received('mx.reply.example.com', 'relay.example.org')] + hdrs, f'Tracker <{k}>', recipient=k,
           body=body, sender=sender, exit=77, status='5.7.1', expect_key=K, reply_expect=False,
           extra_expect={'auto_submitted': reason})
auto('auto-gmail-vacation', ['Auto-Submitted: auto-replied', 'Precedence: bulk'], 'Auto-Submitted: auto-replied')
auto('auto-x-autoreply-yahoo', ['X-Autoreply: yes'], 'X-Autoreply: yes')
auto('auto-precedence-list', ['Precedence: list', 'List-Id: <dev.lists.example.org>'], 'Precedence: list')
auto('auto-x-autorespond', ['X-Autorespond: Out of office'], 'X-Autorespond: Out of office')
auto('auto-mailer-daemon', [], 'envelope sender is MAILER-DAEMON', sender='MAILER-DAEMON@relay.example.org')

# A bounce (DSN) with the null sender: multipart/report.
dsn_b = '4Hx7Kd2Zr9z9sWk.1795957546/relay.example.org'
dsn = (f'This is a MIME-encapsulated message.\r\n\r\n--{dsn_b}\r\nContent-Description: Notification\r\n'
       'Content-Type: text/plain; charset=us-ascii\r\n\r\nThis is the mail system at host relay.example.org.\r\n\r\n'
       "I'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n\r\n"
       f'--{dsn_b}\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n'
       'Reporting-MTA: dns; relay.example.org\r\n\r\nFinal-Recipient: rfc822; gone@example.org\r\nAction: failed\r\n'
       'Status: 5.1.1\r\n\r\n'
       f'--{dsn_b}--\r\n')
top = [received('mx.reply.example.com', 'relay.example.org'), 'Date: ' + DATE,
       'From: MAILER-DAEMON@relay.example.org (Mail Delivery System)', 'Subject: Undelivered Mail Returned to Sender',
       f'To: {k}', 'MIME-Version: 1.0',
       f'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="{dsn_b}"',
       'Message-Id: <20261121141300.4Hx7Kd2Zr9z9sWk@relay.example.org>']
write('auto-bounce-null-sender', top, dsn, {'exit': 77, 'status': '5.7.1', 'sender': '', 'recipient': k,
      'auto_submitted': 'null envelope sender (a bounce or DSN)', 'key': K})

# Auto-Submitted: no is a person's message.
simple('auto-submitted-no-is-a-person', [received('mx.reply.example.com', 'relay.example.org'), 'Auto-Submitted: no'],
       f'Tracker <{k}>', recipient=k, expect_key=K, extra_expect={'auto_submitted': None})

# ---- empty, unparsable --------------------------------------------------------
simple('empty-reply-only-quote', [received('mx.reply.example.com', 'relay.example.org')], f'Tracker <{k}>', recipient=k,
       body='On 21/11/2026 15:12, Tracker wrote:\n' + quote(NOTE), exit=65,
       status='5.6.0 the reply is empty: write above the quoted text', expect_key=K, reply_expect='')
write('unparsable-empty-input', [], b'', {'exit': 65, 'status': '5.6.0', 'recipient': k, 'key': None}, raw=b'')

# ---- RFC 2047 in headers -------------------------------------------------------
s = 'Re: [acme/widgets] 日本語の件名と Ünïcödé — 한국어 (#131)'
k2 = A('i', 131, 101)
top = [received('mx.reply.example.com', 'relay.example.org'),
       'Subject: ' + ew_b('Re: [acme/widgets] 日本語の件名と ', 'ISO-2022-JP') + '\r\n ' + ew_q('Ünïcödé — ', 'utf-8') + '\r\n ' +
       ew_b('한국어', 'EUC-KR') + ' (#131)',
       'From: ' + ew_q('Ünïcödé Ûser', 'iso-8859-1') + ' <user@example.org>', f'To: {ew_b("トラッカー", "ISO-2022-JP")} <{k2}>',
       f'Date: {DATE}', 'Message-ID: <rfc2047-headers@example.org>', 'MIME-Version: 1.0',
       'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit']
write('rfc2047-headers-mixed-charsets', top, crlf('Encoded headers decode to UTF-8.\n'),
      {'exit': 0, 'status': '2.0.0', 'key': key('i', 131, 101, 'to'), 'subject': s,
       'from': {'name': 'Ünïcödé Ûser', 'address': 'user@example.org'},
       'reply_text': 'Encoded headers decode to UTF-8.', 'message_id': 'rfc2047-headers@example.org',
       'date': '2026-11-21T14:13:00Z'})
