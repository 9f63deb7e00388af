from clients import *
from gen_gmail import exp

DATE = 'Sat, 21 Nov 2026 15:13:00 +0100'
RCV_TB = [received('mx.reply.example.com', 'smtp.posteo.net')]

def tb(name, kind, target, user, reply, attr, frm_name, frm_email, charset='UTF-8', lang='en-US', sig=None,
       source='envelope', extra_top=(), attachments=(), att_expect=None, html_only=False, cte=None, subject=None,
       to_override=None):
    a = addr(kind, target, user)
    to = to_override or (f'Tracker <{a}>' if source in ('envelope', 'to') else f'Tracker <{DEDICATED}>')
    frm = f'{ew_b(frm_name)} <{frm_email}>' if any(ord(c) > 127 for c in frm_name) else f'{frm_name} <{frm_email}>'
    subj = subject or f'Re: [acme/widgets] Build fails on ARM (#{target})'
    subj_hdr = ew_b(subj) if any(ord(c) > 127 for c in subj) else subj
    nid = notif_id(kind, target, user)
    top, body = thunderbird(reply, attr, frm, to, subj_hdr,
                            f'{hashlib.md5(name.encode()).hexdigest()[:8]}-{target:04x}-4e1f-9a2b-{user:012x}@posteo.net',
                            DATE, nid, charset=charset, lang=lang, extra_top=list(extra_top) + RCV_TB,
                            attachments=attachments, sig=sig, html_only=html_only, cte=cte)
    e = exp(reply, key(kind, target, user, source), recipient=a if source == 'envelope' else DEDICATED)
    if subject:
        e['subject'] = subject
    if att_expect is not None:
        e['attachments'] = att_expect
    write(name, top, body, e)

# RFC 2231 with continuations and a charset: a Japanese file name.
data = 'ビルドログ\nld: error: undefined symbol\n'.encode('utf-8')
jname = 'ビルドログ_aarch64.txt'
enc = ''.join('%%%02X' % b for b in jname.encode('utf-8'))
chunks = [enc[i:i + 45] for i in range(0, len(enc), 45)]
disp = ';\r\n'.join(f" filename*{i}*={'UTF-8' + chr(39) + chr(39) if i == 0 else ''}{c}" for i, c in enumerate(chunks))
ctn = ';\r\n'.join(f" name*{i}*={'UTF-8' + chr(39) + chr(39) if i == 0 else ''}{c}" for i, c in enumerate(chunks))
att = (f'Content-Type: text/plain; charset=UTF-8;\r\n{ctn}\r\n'
       f'Content-Disposition: attachment;\r\n{disp}\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b64(data))
tb('thunderbird-en-rfc2231-attachment', 'i', 90, 60,
   'The full build log is attached. The failure starts at line 212.',
   'On 21/11/2026 15:12, Tracker wrote:', 'Nora Quinn', 'nora.quinn@posteo.net', attachments=[att],
   att_expect=[{'filename': jname, 'content_type': 'text/plain', 'size': len(data), 'sha256': sha(data), 'inline': False}])
tb('thunderbird-de-signature', 'i', 91, 61, 'Mit dem aktuellen Stand läuft der Build durch.',
   'Am 21.11.26 um 15:12 schrieb Tracker:', 'Jörg Müller', 'joerg.mueller@posteo.de', lang='de-DE',
   sig='Jörg Müller\nhttps://example.de/~joerg')
tb('thunderbird-ru-koi8r', 'i', 92, 62, 'Подтверждаю, сборка проходит.', '21.11.2026 15:12, Tracker пишет:',
   'Алексей Смирнов', 'alexey.smirnov@posteo.net', charset='KOI8-R', lang='ru-RU', cte='8bit',
   subject='Re: Сборка на ARM падает (#92)')
tb('thunderbird-pl-latin2', 'i', 93, 63, 'Potwierdzam, łatka działa poprawnie.', 'W dniu 21.11.2026 o 15:12, Tracker pisze:',
   'Łukasz Wójcik', 'lukasz.wojcik@posteo.net', charset='ISO-8859-2', lang='pl-PL', cte='8bit')
tb('thunderbird-en-html-only-cc', 'i', 94, 64, 'Confirmed on Fedora 41 aarch64 as well.',
   'On 21/11/2026 15:12, Tracker wrote:', 'Nora Quinn', 'nora.quinn@posteo.net', html_only=True, source='cc',
   to_override='dev-list@lists.example.org', extra_top=['Cc: Tracker <' + addr('i', 94, 64) + '>'])

# ---- Yahoo --------------------------------------------------------------
def yahoo(name, kind, target, user, reply, attr, frm_name, frm_email, source='envelope', extra_top=()):
    a = addr(kind, target, user)
    nid = notif_id(kind, target, user)
    to = f'Tracker <{a}>' if source in ('envelope', 'to') else f'Tracker <{DEDICATED}>'
    # Yahoo's text part indents the attribution and does not prefix the quote.
    plain = reply + '\n\n    ' + attr + '  \n \n ' + NOTE.replace('\n', '\n ')
    html = ('<html><head></head><body><div class="ydp1a2b3c4dyahoo-style-wrap" style="font-family:Helvetica Neue, Helvetica, Arial, sans-serif;font-size:16px;">'
            f'<div dir="ltr" data-setdir="false">{html_escape(reply)}</div></div><div id="ydp5e6f7a8byahoo_quoted_1234567890" class="ydp5e6f7a8byahoo_quoted">'
            f'<div style="font-family:\'Helvetica Neue\', Helvetica, Arial, sans-serif;font-size:13px;color:#26282a;"><div>{html_escape(attr)}</div>'
            f'<div><br></div><div><br></div><div><div dir="ltr">{html_lines(NOTE)}</div></div></div></div></body></html>')
    b = '----=_Part_1234567_' + str(target * 99991)
    frm = f'{ew_q(frm_name)} <{frm_email}>' if any(ord(c) > 127 for c in frm_name) else f'{frm_name} <{frm_email}>'
    top = list(extra_top) + [received('mx.reply.example.com', 'sonic301-21.consmr.mail.ir2.yahoo.com'),
           'Date: ' + DATE.replace('+0100', '+0000 (UTC)'), f'From: {frm}', f'To: {to}',
           f'Message-ID: <{target * 7919}.{user * 104729}.{target}@mail.yahoo.com>', f'In-Reply-To: {nid}', f'References: {nid}',
           f'Subject: Re: [acme/widgets] Build fails on ARM (#{target})', 'MIME-Version: 1.0',
           f'Content-Type: multipart/alternative; boundary="{b}"', 'X-Mailer: WebService/1.1.22850 YMailNorrin']
    body = multipart('alternative', b, [text_part(plain, charset='UTF-8'), text_part(html, charset='UTF-8', ctype='text/html')])[1]
    write(name, top, body, exp(reply, key(kind, target, user, source), recipient=a if source == 'envelope' else DEDICATED))

yahoo('yahoo-en-x-original-to', 'i', 95, 65, 'Thanks, that solved it for me.',
      'On Saturday, November 21, 2026 at 03:12:00 PM GMT+1, Tracker <{a}> wrote:'.format(a=addr('i', 95, 65)),
      'Mia Clark', 'mia.clark@yahoo.com', source='x-original-to', extra_top=['X-Original-To: ' + addr('i', 95, 65)])
yahoo('yahoo-es', 'i', 96, 66, 'Gracias, ya funciona.',
      'El sábado, 21 de noviembre de 2026, 15:12:00 CET, Tracker <{a}> escribió:'.format(a=addr('i', 96, 66)),
      'Lucía Fernández', 'lucia.fernandez@yahoo.es')

# ---- Proton -------------------------------------------------------------
def proton(name, kind, target, user, reply, attr, frm_name, frm_email, source='envelope', extra_top=(), to=None):
    a = addr(kind, target, user)
    nid = notif_id(kind, target, user)
    to = to or (f'Tracker <{a}>' if source in ('envelope', 'to') else f'Tracker <{DEDICATED}>')
    plain = (reply + '\n\nSent with Proton Mail secure email.\n\n------- Original Message -------\n'
             + attr + '\n\n\n' + quote(NOTE))
    html = (f'<div style="font-family: Arial, sans-serif; font-size: 14px;">{html_escape(reply)}</div>'
            '<div style="font-family: Arial, sans-serif; font-size: 14px;"><br></div>'
            '<div class="protonmail_signature_block" style="font-family: Arial, sans-serif; font-size: 14px;">'
            '<div class="protonmail_signature_block-proton">Sent with <a href="https://proton.me/" target="_blank">Proton Mail</a> secure email.</div></div>'
            '<div style="font-family: Arial, sans-serif; font-size: 14px;"><br></div><div class="protonmail_quote">'
            f'------- Original Message -------<br>{html_escape(attr)}<br><br><blockquote class="protonmail_quote" type="cite">'
            f'{html_lines(NOTE)}</blockquote><br></div>')
    b = 'b1_' + hashlib.md5(name.encode()).hexdigest()[:40]
    top = list(extra_top) + [received('mx.reply.example.com', 'mail-40131.protonmail.ch'),
           f'Date: {DATE.replace("+0100", "+0000")}', f'To: {to}', f'From: {frm_name} <{frm_email}>',
           f'Subject: Re: [acme/widgets] Build fails on ARM (#{target})',
           f'Message-ID: <{hashlib.sha1(name.encode()).hexdigest()[:30]}=@proton.me>', f'In-Reply-To: {nid}', f'References: {nid}',
           'Feedback-ID: 12345678:user:proton', 'MIME-Version: 1.0', f'Content-Type: multipart/alternative; boundary="{b}"']
    body = 'This is a multi-part message in MIME format.\r\n\r\n' + multipart('alternative', b, [
        text_part(plain, charset='utf-8'), text_part(html, charset='utf-8', ctype='text/html')])[1]
    write(name, top, body, exp(reply, key(kind, target, user, source), recipient=a if source == 'envelope' else DEDICATED))

proton('proton-en', 'i', 97, 67, 'Reproduced on my side, the patch fixes it.',
       'On Saturday, November 21st, 2026 at 15:12, Tracker <{a}> wrote:'.format(a=addr('i', 97, 67)),
       'Felix Wagner', 'felix.wagner@proton.me')
proton('proton-de-references', 'i', 98, 68, 'Bei mir ebenfalls behoben, danke.',
       'Am Samstag, 21. November 2026 um 15:12 schrieb Tracker <{a}>:'.format(a=DEDICATED),
       'Felix Wagner', 'felix.wagner@proton.me', source='references')

# ---- K-9 Mail -----------------------------------------------------------
def k9(name, kind, target, user, reply, sig, attr, frm_name, frm_email, source='envelope', extra_top=()):
    a = addr(kind, target, user)
    nid = notif_id(kind, target, user)
    to = f'Tracker <{a}>' if source in ('envelope', 'to') else f'Tracker <{DEDICATED}>'
    plain = reply + '\n-- \n' + sig + '\n\n' + attr + '\n' + quote(NOTE, '>')
    top = list(extra_top) + [received('mx.reply.example.com', 'mout.gmx.net'),
           f'Date: {DATE}', f'From: {frm_name} <{frm_email}>', f'To: {to}', 'User-Agent: K-9 Mail for Android',
           f'In-Reply-To: {nid}', f'References: {nid}', f'Subject: Re: [acme/widgets] Build fails on ARM (#{target})',
           'MIME-Version: 1.0']
    head, _, body = text_part(plain, charset='utf-8').partition('\r\n\r\n')
    top += head.split('\r\n') + [f'Message-ID: <{hashlib.md5(name.encode()).hexdigest()[:8].upper()}-{target}@gmx.net>']
    write(name, top, body, exp(reply, key(kind, target, user, source), recipient=a if source == 'envelope' else DEDICATED))

k9('k9-en-envelope-to', 'i', 99, 69, 'Will test tonight.',
   'Sent from my Android device with K-9 Mail. Please excuse my brevity.',
   'On November 21, 2026 3:12:00 PM GMT+01:00, Tracker <{a}> wrote:'.format(a=addr('i', 99, 69)),
   'Max Weber', 'max.weber@gmx.net', source='envelope-to', extra_top=['Envelope-To: ' + addr('i', 99, 69)])
k9('k9-sv-x-envelope-to', 'i', 100, 70, 'Jag testar i kväll.',
   'Skickat från min Android-enhet med K-9 Mail. Ursäkta min korthet.',
   'Den 21 november 2026 15:12:00 CET skrev Tracker <{a}>:'.format(a=addr('i', 100, 70)),
   'Sara Nilsson', 'sara.nilsson@gmx.net', source='x-envelope-to', extra_top=['X-Envelope-To: <' + addr('i', 100, 70) + '>'])

# ---- signed mail: the signature part is not an attachment ---------------------
def signed(name, kind, target, user, reply, protocol, sig_type, sig_name, sig_data, frm, ua):
    a = addr(kind, target, user)
    nid = notif_id(kind, target, user)
    inner = text_part(reply + '\n\nOn 21/11/2026 15:12, Tracker wrote:\n' + quote(NOTE), charset='UTF-8')
    b = '------------sig' + hashlib.md5(name.encode()).hexdigest()[:20]
    parts = [inner, f'Content-Type: {sig_type}; name="{sig_name}"\r\nContent-Description: signature\r\n'
                    f'Content-Disposition: attachment; filename="{sig_name}"\r\n'
                    + ('Content-Transfer-Encoding: base64\r\n\r\n' + b64(sig_data) if protocol != 'application/pgp-signature'
                       else '\r\n' + sig_data.decode())]
    ct, body = multipart('signed', b, parts)
    top = [received('mx.reply.example.com', 'smtp.posteo.net'), f'Message-ID: <{name}-{target}@posteo.net>',
           f'Date: {DATE}', 'MIME-Version: 1.0', ua, f'Subject: Re: [acme/widgets] Build fails on ARM (#{target})',
           f'To: Tracker <{a}>', f'References: {nid}', f'From: {frm}', f'In-Reply-To: {nid}',
           f'Content-Type: multipart/signed; micalg=sha-256;\r\n protocol="{protocol}";\r\n boundary="{b}"']
    write(name, top, 'This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n' + body,
          exp(reply, key(kind, target, user, 'envelope'), recipient=a, attachments=[]))

signed('thunderbird-en-pgp-signed', 'i', 101, 71, 'Signed off on the release notes.', 'application/pgp-signature',
       'application/pgp-signature', 'OpenPGP_signature.asc',
       b'-----BEGIN PGP SIGNATURE-----\r\n\r\nwnsEABYIACMWIQTfakefakefakefakefakefakefakeBQJnP0AAAAoJEAAAAAAAAAAA\r\n=abcd\r\n-----END PGP SIGNATURE-----\r\n',
       'Nora Quinn <nora.quinn@posteo.net>', 'User-Agent: Mozilla Thunderbird')
signed('outlook-desktop-en-smime-signed', 'i', 102, 72, 'Approved from my side.', 'application/pkcs7-signature',
       'application/pkcs7-signature', 'smime.p7s', bytes(range(256)) * 4,
       'Priya Raman <priya.raman@contoso.com>', 'X-Mailer: Microsoft Outlook 16.0')
