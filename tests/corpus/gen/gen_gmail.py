from clients import *

DATE = 'Sat, 21 Nov 2026 15:13:00 +0100'
RCV = [received('mx.reply.example.com', 'mail-ej1-f41.google.com')]

def exp(reply_text, k, exit=0, status='2.0.0', **kw):
    e = {'exit': exit, 'status': status, 'key': k}
    if reply_text is not None:
        e['reply_text'] = reply_text
    e.update(kw)
    return e

cases = [
 # name, lang, sender name, reply, attr template, kind,target,user, source-of-key
 ('gmail-web-en', 'Bob Smith', 'bob.smith@gmail.com',
  "Sounds good, I'll take a look tomorrow morning.\n\nBob",
  'On Sat, Nov 21, 2026 at 3:12\u202fPM Tracker <{a}> wrote:', 'i', 1, 5),
 ('gmail-web-de', 'Jörg Müller', 'joerg.mueller@gmail.com',
  'Danke, ich schaue mir das morgen früh an.\n\nGruß\nJörg',
  'Am Sa., 21. Nov. 2026 um 15:12 Uhr schrieb Tracker <{a}>:', 'i', 2, 6),
 ('gmail-web-fr', 'Amélie Dubois', 'amelie.dubois@gmail.com',
  "Merci ! Je regarde ça lundi.",
  'Le sam. 21 nov. 2026 à 15:12, Tracker <{a}> a\u00a0écrit\u00a0:', 'i', 3, 7),
 ('gmail-web-es', 'José García', 'jose.garcia@gmail.com',
  'Perfecto, lo reviso mañana. ¡Gracias!',
  'El sáb, 21 nov 2026 a las 15:12, Tracker (<{a}>) escribió:', 'p', 14, 8),
 ('gmail-web-pt', 'João Silva', 'joao.silva@gmail.com',
  'Obrigado, vou verificar amanhã.',
  'Em sáb., 21 de nov. de 2026 às 15:12, Tracker <{a}> escreveu:', 'i', 4, 9),
 ('gmail-web-it', 'Giulia Rossi', 'giulia.rossi@gmail.com',
  'Grazie, ci guardo domani mattina.',
  'Il giorno sab 21 nov 2026 alle ore 15:12 Tracker <{a}> ha scritto:', 'i', 5, 10),
 ('gmail-web-nl', 'Daan de Vries', 'daan.devries@gmail.com',
  'Bedankt, ik kijk er morgen naar.',
  'Op za 21 nov 2026 om 15:12 schreef Tracker <{a}>:', 'i', 6, 11),
 ('gmail-web-sv', 'Erik Lindqvist', 'erik.lindqvist@gmail.com',
  'Tack, jag tittar på det i morgon.',
  'Den lör 21 nov. 2026 kl 15:12 skrev Tracker <{a}>:', 'i', 7, 12),
 ('gmail-web-no', 'Ingrid Hansen', 'ingrid.hansen@gmail.com',
  'Takk, jeg ser på det i morgen.',
  'lør. 21. nov. 2026 kl. 15:12 skrev Tracker <{a}>:', 'i', 8, 13),
 ('gmail-web-da', 'Mette Nielsen', 'mette.nielsen@gmail.com',
  'Tak, jeg kigger på det i morgen.',
  'Den lør. 21. nov. 2026 kl. 15.12 skrev Tracker <{a}>:', 'i', 9, 14),
 ('gmail-web-pl', 'Katarzyna Nowak', 'katarzyna.nowak@gmail.com',
  'Dzięki, sprawdzę to jutro rano.',
  'sob., 21 lis 2026 o 15:12 Tracker <{a}> napisał(a):', 'i', 10, 15),
 ('gmail-web-ru', 'Иван Петров', 'ivan.petrov@gmail.com',
  'Спасибо, посмотрю завтра утром.',
  'сб, 21 нояб. 2026\u202fг. в 15:12, Tracker <{a}>:', 'i', 11, 16),
 ('gmail-web-uk', 'Олена Коваленко', 'olena.kovalenko@gmail.com',
  'Дякую, подивлюся завтра.',
  'сб, 21 лист. 2026\u202fр. о 15:12 Tracker <{a}> пише:', 'i', 12, 17),
 ('gmail-web-ko', '김민준', 'minjun.kim@gmail.com',
  '확인했습니다. 내일 오전에 살펴볼게요.',
  '2026년 11월 21일 (토) 오후 3:12, Tracker <{a}>님이 작성:', 'i', 13, 18),
 ('gmail-web-ja', '佐藤花子', 'hanako.sato@gmail.com',
  '承知しました。明日の午前中に確認します。',
  '2026年11月21日(土) 15:12 Tracker <{a}>:', 'i', 14, 19),
 ('gmail-web-zh', '王伟', 'wei.wang@gmail.com',
  '好的，我明天上午看一下。',
  'Tracker <{a}> 于2026年11月21日周六 15:12写道：', 'i', 15, 20),
]

for (name, fname, femail, reply, attr_t, kind, target, user) in cases:
    a = addr(kind, target, user)
    attr = attr_t.format(a=a)
    frm = f'{ew_b(fname)} <{femail}>' if any(ord(c) > 127 for c in fname) else f'{fname} <{femail}>'
    subj_txt = 'Re: [acme/widgets] Build fails on ARM (#%d)' % target
    top, body = gmail(reply, attr, frm, f'Tracker <{a}>', subj_txt,
                      f'CAF3a9Zk{target}x{user}qW-{name[-2:]}Xb=8sGhT4m@mail.gmail.com', DATE, kind, target, user,
                      extra_top=['Delivered-To: ' + a] + RCV)
    write(name, top, body, exp(reply, key(kind, target, user, 'envelope'), recipient=a,
                               **{'from': {'name': fname, 'address': femail}}))

# Gmail Android: short reply, subject encoded, key in To only (envelope is the dedicated address).
a = addr('p', 31, 5)
top, body = gmail('Merged, thanks!', f'On Sat, 21 Nov 2026, 15:12 Tracker, <{a}> wrote:',
                  'Bob Smith <bob.smith@gmail.com>', f'Tracker <{a}>',
                  'Re: [acme/widgets] Fix ARM build (#31)',
                  'CAHk8mQx2Lw9Ea-android-7Yb1R=pZ@mail.gmail.com', DATE, 'p', 31, 5, refs='',
                  extra_top=RCV)
write('gmail-android-en-to', top, body, exp('Merged, thanks!', key('p', 31, 5, 'to')))

# Gmail with a signature and an inline image in multipart/related.
a = addr('i', 40, 5)
png = bytes.fromhex('89504e470d0a1a0a0000000d4948445200000001000000010806000000'
                    '1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e221bc330000000049454e44ae426082')
attr = f'On Sat, Nov 21, 2026 at 3:12\u202fPM Tracker <{a}> wrote:'
plain = ('Here is the screenshot of the error:\n[image: arm-error.png]\n\n-- \nBob Smith\nACME Widgets\n\n'
         + attr + '\n\n' + quote(NOTE))
html = ('<div dir="ltr">Here is the screenshot of the error:<div><img src="cid:ii_lq2x9a1k0" alt="arm-error.png" width="1" height="1"><br></div>'
        '<br clear="all"><div><div dir="ltr" class="gmail_signature">Bob Smith<div>ACME Widgets</div></div></div></div>'
        f'<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">{html_escape(attr)}<br></div>'
        f'<blockquote class="gmail_quote">{html_lines(NOTE)}</blockquote></div>\n')
alt = multipart('alternative', '000000000000aa11bb22cc33dd44', [text_part(plain), text_part(html, ctype='text/html')])
rel = multipart('related', '000000000000ee55ff66aa77bb88',
                [f'Content-Type: {alt[0]}\r\n\r\n{alt[1]}',
                 'Content-Type: image/png; name="arm-error.png"\r\nContent-Disposition: inline; filename="arm-error.png"\r\n'
                 'Content-Transfer-Encoding: base64\r\nContent-ID: <ii_lq2x9a1k0>\r\nX-Attachment-Id: ii_lq2x9a1k0\r\n\r\n' + b64(png)])
top = ['MIME-Version: 1.0', f'References: {notif_id("i", 40, 5)}', f'In-Reply-To: {notif_id("i", 40, 5)}',
       'From: Bob Smith <bob.smith@gmail.com>', f'Date: {DATE}', '<CAF3a9ZkSig40x5Img@mail.gmail.com>'.join(['Message-ID: ', '']),
       'Subject: Re: [acme/widgets] Build fails on ARM (#40)', f'To: Tracker <{a}>', f'Content-Type: {rel[0]}']
write('gmail-web-en-inline-image', top, rel[1],
      exp('Here is the screenshot of the error:\n[image: arm-error.png]', key('i', 40, 5, 'envelope'), recipient=a,
          attachments=[{'filename': 'arm-error.png', 'content_type': 'image/png', 'size': len(png),
                        'sha256': sha(png), 'inline': True, 'content_id': 'ii_lq2x9a1k0'}]))
