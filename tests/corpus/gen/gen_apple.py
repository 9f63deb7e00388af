from clients import *
from gen_gmail import exp

DATE = 'Sat, 21 Nov 2026 15:13:00 +0100'
RCV_AP = [received('mx.reply.example.com', 'st43p00im-ztdg10073201.me.com')]

def ap(name, kind, target, user, reply, attr_t, frm_name, frm_email, ios=False, sig=None, flowed=False,
       source='envelope', extra_top=(), html=True, subject=None):
    a = addr(kind, target, user)
    attr = attr_t.format(a=a)
    to = f'Tracker <{a}>' if source in ('envelope', 'to') else f'Tracker <{DEDICATED}>'
    frm = f'{ew_q(frm_name)} <{frm_email}>' if any(ord(c) > 127 for c in frm_name) else f'{frm_name} <{frm_email}>'
    subj = subject or f'Re: [acme/widgets] Build fails on ARM (#{target})'
    subj_hdr = ew_q(subj) if any(ord(c) > 127 for c in subj) else subj
    top, body = apple(reply, attr, frm, to, subj_hdr, f'{hashlib.md5(name.encode()).hexdigest()[:8].upper()}-1F2E-4D3C-8B9A-{target:012d}@icloud.com',
                      DATE, notif_id(kind, target, user), ios=ios, sig=sig, flowed=flowed,
                      extra_top=list(extra_top) + RCV_AP, html=html)
    e = exp(reply, key(kind, target, user, source), recipient=a if source == 'envelope' else DEDICATED)
    if subject:
        e['subject'] = subject
    write(name, top, body, e)
    return a

ap('apple-mail-en-flowed', 'i', 70, 40,
   'I tried the patch on my M2 Mac and on a Raspberry Pi 5 running Debian 12, and both builds pass now without the extra linker flag.\n\nThanks for the quick turnaround!',
   'On 21 Nov 2026, at 15:12, Tracker <{a}> wrote:', 'Emma Brown', 'emma.brown@icloud.com', flowed=True)
ap('apple-mail-de-to', 'i', 71, 41, 'Funktioniert bei mir jetzt auch. Danke!',
   'Am 21.11.2026 um 15:12 schrieb Tracker <{a}>:', 'Lukas Schäfer', 'lukas.schaefer@me.com', source='to')
ap('apple-mail-it', 'i', 72, 42, 'Confermo, con la nuova versione funziona tutto.',
   'Il giorno 21 nov 2026, alle ore 15:12, Tracker <{a}> ha scritto:', 'Marco Bianchi', 'marco.bianchi@icloud.com',
   subject='Re: [acme/widgets] La compilazione non riesce su ARM (#72)')
ap('ios-mail-en', 'i', 73, 43, 'Yes, that fixed it.', 'On Nov 21, 2026, at 15:12, Tracker <{a}> wrote:',
   'Olivia Wilson', 'olivia.wilson@icloud.com', ios=True, sig='Sent from my iPhone', html=False)
ap('ios-mail-fr', 'i', 74, 44, "Parfait, merci beaucoup !", 'Le 21 nov. 2026 à 15:12, Tracker <{a}> a écrit :',
   'Camille Martin', 'camille.martin@icloud.com', ios=True, sig='Envoyé de mon iPhone')
ap('ios-mail-de', 'i', 75, 45, 'Passt, danke!', 'Am 21.11.2026 um 15:12 schrieb Tracker <{a}>:',
   'Anna Becker', 'anna.becker@icloud.com', ios=True, sig='Von meinem iPhone gesendet', html=False)
ap('ios-mail-es', 'p', 76, 46, 'Aprobado, gracias.', 'El 21 nov 2026, a las 15:12, Tracker <{a}> escribió:',
   'Lucía Fernández', 'lucia.fernandez@icloud.com', ios=True, sig='Enviado desde mi iPhone', html=False)
ap('ios-mail-ja', 'i', 77, 47, '了解です。対応ありがとうございます。', '2026/11/21 15:12、Tracker <{a}>のメール:',
   '鈴木一郎', 'ichiro.suzuki@icloud.com', ios=True, sig='iPhoneから送信', html=False)
ap('ios-mail-ko', 'i', 78, 48, '네, 확인했습니다. 감사합니다!', '2026. 11. 21. 오후 3:12, Tracker <{a}> 작성:',
   '박지훈', 'jihoon.park@icloud.com', ios=True, sig='iPhone에서 보냄', html=False)

# iOS Mail: a reply that is only a photo (the text is just the mobile signature,
# which the never-empty rule of issue 19 keeps: it is the only text there is).
a = addr('i', 79, 49)
jpeg = bytes.fromhex('ffd8ffe000104a46494600010100000100010000ffdb004300') + bytes(range(64)) + bytes.fromhex('ffd9')
nid = notif_id('i', 79, 49)
plain = crlf(f'\n\nSent from my iPhone\n\n> On Nov 21, 2026, at 15:12, Tracker <{a}> wrote:\n>\n' + quote(NOTE))
parts = [text_part('\n', charset='us-ascii', quoted_charset=False),
         'Content-Type: image/jpeg; name=IMG_4021.jpeg; x-apple-part-url=9A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9\r\n'
         'Content-Disposition: inline; filename=IMG_4021.jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b64(jpeg),
         text_part(plain, charset='us-ascii', quoted_charset=False)]
ct, body = multipart('mixed', 'Apple-Mail-6C2E9A4F-6B1D-4C77-A3E2-1F0B9D8C7E6A', parts)
top = RCV_AP + [f'Content-Type: {ct}', 'Content-Transfer-Encoding: 7bit', 'Mime-Version: 1.0 (1.0)',
      'Subject: Re: [acme/widgets] Build fails on ARM (#79)', 'From: Olivia Wilson <olivia.wilson@icloud.com>',
      f'In-Reply-To: {nid}', f'Date: {DATE}', f'References: {nid}', f'To: Tracker <{a}>',
      'Message-Id: <5E1D2C3B-4A59-4867-9F8E-7D6C5B4A3921@icloud.com>', 'X-Mailer: iPhone Mail (22B91)']
write('ios-mail-photo-only', top, body,
      exp('Sent from my iPhone', key('i', 79, 49, 'envelope'), recipient=a,
          attachments=[{'filename': 'IMG_4021.jpeg', 'content_type': 'image/jpeg', 'size': len(jpeg),
                        'sha256': sha(jpeg), 'inline': True}]))

# Apple Mail: HTML with an inline image (Content-ID) and a PDF with an RFC 2231 name.
a = addr('i', 80, 50)
nid = notif_id('i', 80, 50)
png = bytes.fromhex('89504e470d0a1a0a0000000d49484452000000020000000208020000'
                    '00fdd49a730000001149444154789c63f8ffff3f0305c0c0c000000ef601fe0b2ab9e50000000049454e44ae426082')
pdf = b'%PDF-1.5\n% Ma\xc3\xb1ana report\ntrailer<</Root 1 0 R>>\n%%EOF\n'
pdfname = 'informe de mañana.pdf'
plain = 'Screenshot and report attached.\n\n'
html = ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body>'
        '<div>Screenshot and report attached.</div><div><img src="cid:8D2A6B1C-5E3F-4A70-9C1D-2B3E4F5A6B7C" alt="shot.png"></div>'
        '</body></html>')
rel = multipart('related', 'Apple-Mail-R-11AA22BB', [
    text_part(html, charset='utf-8', ctype='text/html', quoted_charset=False),
    'Content-Transfer-Encoding: base64\r\nContent-Disposition: inline; filename=shot.png\r\n'
    'Content-Type: image/png; x-unix-mode=0644; name="shot.png"\r\nContent-Id: <8D2A6B1C-5E3F-4A70-9C1D-2B3E4F5A6B7C>\r\n\r\n' + b64(png)])
alt = multipart('alternative', 'Apple-Mail-A-33CC44DD', [text_part(plain, charset='us-ascii', quoted_charset=False),
                                                          f'Content-Type: {rel[0]}\r\n\r\n{rel[1]}'])
mixed = multipart('mixed', 'Apple-Mail-M-55EE66FF', [
    f'Content-Type: {alt[0]}\r\n\r\n{alt[1]}',
    "Content-Disposition: attachment;\r\n\tfilename*=utf-8''informe%20de%20ma%C3%B1ana.pdf\r\n"
    "Content-Type: application/pdf;\r\n\tx-unix-mode=0644;\r\n\tname*=utf-8''informe%20de%20ma%C3%B1ana.pdf\r\n"
    'Content-Transfer-Encoding: base64\r\n\r\n' + b64(pdf)])
top = RCV_AP + [f'Content-Type: {mixed[0]}', 'Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))',
      'Subject: Re: [acme/widgets] Build fails on ARM (#80)', f'From: {ew_q("Lucía Fernández")} <lucia.fernandez@icloud.com>',
      f'In-Reply-To: {nid}', f'Date: {DATE}', f'References: {nid}', f'To: Tracker <{a}>',
      'Message-Id: <0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F0@icloud.com>', 'X-Mailer: Apple Mail (2.3774.600.62)']
write('apple-mail-es-inline-image-pdf', top, mixed[1],
      exp('Screenshot and report attached.', key('i', 80, 50, 'envelope'), recipient=a,
          attachments=[{'filename': 'shot.png', 'content_type': 'image/png', 'size': len(png), 'sha256': sha(png),
                        'inline': True, 'content_id': '8D2A6B1C-5E3F-4A70-9C1D-2B3E4F5A6B7C'},
                       {'filename': pdfname, 'content_type': 'application/pdf', 'size': len(pdf), 'sha256': sha(pdf),
                        'inline': False}],
          **{'from': {'name': 'Lucía Fernández', 'address': 'lucia.fernandez@icloud.com'}}))

# Apple Mail, HTML only (the text part dropped by a relay), blockquote type=cite.
a = addr('i', 81, 51)
nid = notif_id('i', 81, 51)
html = ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body dir="auto">'
        '<div>Looks good to me, ship it.</div><div><br></div>'
        f'<div><br><blockquote type="cite"><div>On 21 Nov 2026, at 15:12, Tracker &lt;{a}&gt; wrote:</div><br>'
        f'<div><div>{html_lines(NOTE)}</div></div></blockquote></div><br></body></html>')
top = RCV_AP + ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable',
      'Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))', 'Subject: Re: [acme/widgets] Build fails on ARM (#81)',
      'From: Emma Brown <emma.brown@icloud.com>', f'In-Reply-To: {nid}', f'Date: {DATE}', f'References: {nid}',
      f'To: Tracker <{a}>', 'Message-Id: <1A2B3C4D-5E6F-4071-8A9B-0C1D2E3F4A5B@icloud.com>']
write('apple-mail-en-html-only', top, qp(html), exp('Looks good to me, ship it.', key('i', 81, 51, 'envelope'), recipient=a))
