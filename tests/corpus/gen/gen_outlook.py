from clients import *
from gen_gmail import exp, DATE

RCV_MS = [received('mx.reply.example.com', 'mail-db8eur05on2071.outbound.protection.outlook.com')]
SENT = 'Saturday, November 21, 2026 3:12 PM'

def frm_of(name, email, cs='UTF-8'):
    return f'{ew_b(name, cs) if any(ord(c) > 127 for c in name) else name} <{email}>'

def msid(n):
    return f'AM0PR08MB{5000 + n}A1B2C3D4E5F6A7B8C9D0E1F2{n:04d}@AM0PR08MB{5000 + n}.eurprd08.prod.outlook.com'

def ol(name, n, kind, target, user, reply, labels, sent, sender_name, sender_email, subject,
       source='envelope', charset='utf-8', codec=None, cte=None, lang='en-US', extra_top=(),
       recipient_is_key=True, attachments=(), att_expect=None, subj_cs='UTF-8', html_only=False,
       reply_expect=None, want_subject=None, **kw):
    if want_subject is not None:
        kw['subject'] = want_subject
    a = addr(kind, target, user)
    block = outlook_block(labels, f'Tracker <{a}>', sent, f'{sender_name} <{sender_email}>', subject)
    subj_hdr = ew_b('RE: ' + subject, subj_cs) if any(ord(c) > 127 for c in subject) else 'RE: ' + subject
    to = f'Tracker <{a}>' if source in ('envelope', 'to') else f'Tracker <{DEDICATED}>'
    top, body = outlook(reply, block, frm_of(sender_name, sender_email, subj_cs), to, subj_hdr,
                        msid(n), 'Sat, 21 Nov 2026 14:13:00 +0000', notif_id(kind, target, user),
                        charset=charset, codec=codec, cte=cte, lang=lang,
                        extra_top=list(extra_top) + RCV_MS, attachments=attachments, html_only=html_only)
    e = exp(reply if reply_expect is None else reply_expect, key(kind, target, user, source),
            recipient=a if recipient_is_key else DEDICATED, **kw)
    if att_expect is not None:
        e['attachments'] = att_expect
    write(name, top, body, e)

EN = ('From', 'Sent', 'To', 'Subject')
ol('outlook-desktop-en-cp1252', 1, 'i', 50, 21,
   'We\u2019ve seen the same on our Pi 4 \u2013 it\u2019s the \u201coutline-atomics\u201d flag.\n\nRegards,\nPriya',
   EN, SENT, 'Priya Raman', 'priya.raman@contoso.com', 'Build fails on ARM (#50)',
   charset='iso-8859-1', codec='cp1252', cte='quoted-printable')

ol('outlook-desktop-de-delivered-to', 2, 'i', 51, 22,
   'Hallo zusammen,\n\ndas Problem tritt bei uns auch auf. Ich schicke morgen die Logdatei.\n\nGrüße\nStefan Weiß',
   ('Von', 'Gesendet', 'An', 'Betreff'), 'Samstag, 21. November 2026 15:12', 'Stefan Weiß',
   'stefan.weiss@contoso.de', 'Build schlägt auf ARM fehl (#51)', source='delivered-to',
   charset='iso-8859-1', cte='quoted-printable', lang='de-DE', recipient_is_key=False,
   extra_top=['Delivered-To: ' + addr('i', 51, 22)], want_subject='RE: Build schlägt auf ARM fehl (#51)')

pdf = b'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'
fname = 'compte-rendu réunion.pdf'
att = ('Content-Type: application/pdf; name="' + ew_b(fname) + '"\r\n'
       'Content-Description: ' + ew_b(fname) + '\r\n'
       'Content-Disposition: attachment; filename="' + ew_b(fname) + '"; size=' + str(len(pdf)) + ';\r\n'
       '\tcreation-date="Sat, 21 Nov 2026 14:12:51 GMT";\r\n\tmodification-date="Sat, 21 Nov 2026 14:12:51 GMT"\r\n'
       'Content-Transfer-Encoding: base64\r\n\r\n' + b64(pdf))
ol('outlook-desktop-fr-attachment', 3, 'i', 52, 23,
   'Bonjour,\n\nVous trouverez ci-joint le compte-rendu de la réunion.\n\nCordialement,\nAmélie',
   ('De', 'Envoyé', 'À', 'Objet'), 'samedi 21 novembre 2026 15:12', 'Amélie Dubois',
   'amelie.dubois@contoso.fr', 'La compilation échoue sur ARM (#52)', cte='quoted-printable', lang='fr-FR',
   attachments=[att], att_expect=[{'filename': fname, 'content_type': 'application/pdf', 'size': len(pdf),
                                   'sha256': sha(pdf), 'inline': False}])

ol('outlook-desktop-es', 4, 'p', 53, 24,
   'Hola,\n\nYa he probado el parche y funciona. Lo apruebo.\n\nSaludos,\nJosé',
   ('De', 'Enviado el', 'Para', 'Asunto'), 'sábado, 21 de noviembre de 2026 15:12', 'José García',
   'jose.garcia@contoso.es', 'Corregir la compilación en ARM (#53)', cte='quoted-printable', lang='es-ES')

ol('outlook-web-en-html-only', 5, 'i', 54, 25,
   'Thanks for the quick fix, the nightly build works again.',
   EN, SENT, 'Chris Lee', 'chris.lee@outlook.com', 'Build fails on ARM (#54)',
   source='x-original-to', recipient_is_key=False, html_only=True,
   extra_top=['X-Original-To: ' + addr('i', 54, 25)])

# Outlook for iOS: the mobile signature sits between the reply and the header block.
a = addr('i', 55, 26)
reply = 'Will do, thanks.'
block = outlook_block(EN, f'Tracker <{a}>', 'Saturday, November 21, 2026 3:12:08 PM', 'Sam Taylor <sam.taylor@outlook.com>', 'Build fails on ARM (#55)')
top, body = outlook(reply + '\n\nGet Outlook for iOS<https://aka.ms/o0ukef>', block, 'Sam Taylor <sam.taylor@outlook.com>', f'Tracker <{a}>',
                    'Re: Build fails on ARM (#55)', msid(6), 'Sat, 21 Nov 2026 14:13:00 +0000', notif_id('i', 55, 26),
                    extra_top=RCV_MS)
write('outlook-ios-en', top, body, exp(reply, key('i', 55, 26, 'envelope'), recipient=a))

ol('outlook-desktop-ja-iso2022jp', 7, 'i', 56, 27,
   'お疲れ様です。\n\n修正を確認しました。問題ありません。\n\n田中',
   ('差出人', '送信日時', '宛先', '件名'), '2026年11月21日 15:12', '田中太郎', 'taro.tanaka@contoso.co.jp',
   'ARMでビルドが失敗する (#56)', charset='iso-2022-jp', cte='7bit', lang='ja-JP', subj_cs='ISO-2022-JP',
   want_subject='RE: ARMでビルドが失敗する (#56)', **{'from': {'name': '田中太郎', 'address': 'taro.tanaka@contoso.co.jp'}})

ol('outlook-desktop-ko-ks_c_5601', 8, 'i', 57, 28,
   '안녕하세요.\n\n패치 적용 후 정상적으로 빌드됩니다. 감사합니다.\n\n이서연 드림',
   ('보낸 사람', '보낸 날짜', '받는 사람', '제목'), '2026년 11월 21일 토요일 오후 3:12', '이서연',
   'seoyeon.lee@contoso.co.kr', 'ARM에서 빌드 실패 (#57)', charset='ks_c_5601-1987', cte='base64', lang='ko-KR',
   want_subject='RE: ARM에서 빌드 실패 (#57)')

ol('outlook-desktop-zh-tw-big5', 9, 'i', 58, 29,
   '您好，\n\n我已經測試過修正，沒有問題。\n\n陳志明',
   ('寄件者', '寄件日期', '收件者', '主旨'), '2026年11月21日 星期六 下午 3:12', '陳志明',
   'chihming.chen@contoso.com.tw', 'ARM 上編譯失敗 (#58)', charset='big5', cte='base64', lang='zh-TW',
   subj_cs='big5', want_subject='RE: ARM 上編譯失敗 (#58)')

ol('outlook-desktop-zh-cn-gb2312', 10, 'i', 59, 30,
   '你好，\n\n补丁我已经验证过了，可以合并。\n\n李娜',
   ('发件人', '发送时间', '收件人', '主题'), '2026年11月21日 15:12', '李娜',
   'na.li@contoso.cn', 'ARM 上编译失败 (#59)', charset='gb2312', cte='base64', lang='zh-CN',
   subj_cs='gb2312', want_subject='RE: ARM 上编译失败 (#59)')

ol('outlook-desktop-ru-koi8r', 11, 'i', 60, 31,
   'Добрый день!\n\nИсправление проверил, всё работает.\n\nС уважением,\nДмитрий',
   ('От', 'Отправлено', 'Кому', 'Тема'), 'суббота, 21 ноября 2026 г. 15:12', 'Дмитрий Соколов',
   'dmitry.sokolov@contoso.ru', 'Сборка на ARM падает (#60)', charset='koi8-r', cte='quoted-printable', lang='ru-RU',
   subj_cs='koi8-r', want_subject='RE: Сборка на ARM падает (#60)')

# Forward as attachment: the reply carries the original message as message/rfc822.
inner = crlf('From: Alice <alice@example.org>\nTo: dev@example.org\nSubject: ARM build log\n'
             'Date: Fri, 20 Nov 2026 09:00:00 +0100\nMessage-ID: <log-1@example.org>\nMIME-Version: 1.0\n'
             'Content-Type: text/plain; charset="us-ascii"\n\nld: error: undefined symbol: __aarch64_cas4_acq\n')
att = ('Content-Type: message/rfc822\r\nContent-Disposition: attachment;\r\n\tcreation-date="Sat, 21 Nov 2026 14:12:51 GMT";\r\n'
       '\tmodification-date="Sat, 21 Nov 2026 14:12:51 GMT"\r\n\r\n' + inner)
ol('outlook-desktop-en-message-rfc822', 12, 'i', 61, 32,
   'Attaching the original report from Alice, see the linker error.',
   EN, SENT, 'Priya Raman', 'priya.raman@contoso.com', 'Build fails on ARM (#61)', attachments=[att],
   att_expect=[{'content_type': 'message/rfc822', 'size': len(inner.encode()), 'sha256': sha(inner.encode()),
                'inline': False}])

# Out-of-office auto reply from Exchange.
a = addr('i', 62, 33)
top = RCV_MS + ['From: Priya Raman <priya.raman@contoso.com>', f'To: Tracker <{a}>',
       'Subject: Automatic reply: Build fails on ARM (#62)', 'Thread-Topic: Build fails on ARM (#62)',
       'Date: Sat, 21 Nov 2026 14:13:00 +0000', f'Message-ID: <{msid(13)}>', f'In-Reply-To: {notif_id("i", 62, 33)}',
       'Auto-Submitted: auto-replied', 'X-MS-Exchange-Inbox-Rules-Loop: priya.raman@contoso.com',
       'X-Auto-Response-Suppress: All', 'Content-Language: en-US', 'MIME-Version: 1.0',
       'Content-Type: text/plain; charset="us-ascii"']
write('outlook-ooo-auto-replied', top, crlf('I am out of the office until 1 December with limited access to email.\n'),
      {'exit': 77, 'status': '5.7.1', 'auto_submitted': 'Auto-Submitted: auto-replied',
       'key': key('i', 62, 33, 'envelope'), 'recipient': a})
