#!/usr/bin/env python3
# gen-corpus.py - write the reply-extraction corpus of tests/trim/corpus.
#
# Each item is NAME.txt (a text/plain body) or NAME.html (a text/html body)
# and NAME.want, the reply text that must come out. NAME is
# CLIENT-LANG-WHAT, which the scorer uses for its per-client and
# per-language accuracy. The bodies follow the shapes that each client
# really sends; the traps and the hand-written cases live in corpus/ too
# and are not touched by this script (it only writes files it generates,
# all of which carry the "-g" marker in WHAT).
#
# Run: python3 tests/trim/gen-corpus.py   (from the source root)
import html
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
NBSP = "\u00a0"

# Per language: reply lines, original lines, a sender, the quote headers
# the clients write, Outlook header keys, the rules and mobile signatures.
L = {
 "en": dict(
  reply=["Thanks, the new build works on my machine.", "I will close the ticket tomorrow."],
  orig=["Could you check whether the new build fixes the crash?", "Jane"],
  gmail="On Sat, Nov 21, 2026 at 3:12 PM Jane Doe <jane@example.com> wrote:",
  apple="On Nov 21, 2026, at 15:12, Jane Doe <jane@example.com> wrote:",
  tb="On 11/21/26 15:12, Jane Doe wrote:",
  keys=("From", "Sent", "To", "Subject"), date="Saturday, November 21, 2026 3:12 PM",
  orig_rule="-----Original Message-----", ios="Sent from my iPhone",
  outlook_app="Get Outlook for iOS", android="Sent from my Galaxy",
  yahoo="Sent from Yahoo Mail for iPhone", proton="Sent with Proton Mail secure email."),
 "de": dict(
  reply=["Danke, der neue Build läuft bei mir.", "Ich schließe das Ticket morgen."],
  orig=["Kannst du prüfen, ob der neue Build den Absturz behebt?", "Jana"],
  gmail="Am Sa., 21. Nov. 2026 um 15:12 Uhr schrieb Jana Schmidt <jana@example.de>:",
  apple="Am 21.11.2026 um 15:12 schrieb Jana Schmidt <jana@example.de>:",
  tb="Am 21.11.26 um 15:12 schrieb Jana Schmidt:",
  keys=("Von", "Gesendet", "An", "Betreff"), date="Samstag, 21. November 2026 15:12",
  orig_rule="-----Ursprüngliche Nachricht-----", ios="Von meinem iPhone gesendet",
  outlook_app="Outlook für iOS beziehen", android="Von meinem Galaxy gesendet",
  yahoo="Gesendet von Yahoo Mail auf Android", proton="Gesendet mit Proton Mail sichere E-Mail."),
 "fr": dict(
  reply=["Merci, la nouvelle version fonctionne chez moi.", "Je fermerai le ticket demain."],
  orig=["Peux-tu vérifier si la nouvelle version corrige le plantage ?", "Jeanne"],
  gmail="Le sam. 21 nov. 2026 à 15:12, Jeanne Martin <jeanne@example.fr> a écrit" + NBSP + ":",
  apple="Le 21 nov. 2026 à 15:12, Jeanne Martin <jeanne@example.fr> a écrit" + NBSP + ":",
  tb="Le 21/11/2026 à 15:12, Jeanne Martin a écrit" + NBSP + ":",
  keys=("De" + NBSP, "Envoyé" + NBSP, "À" + NBSP, "Objet" + NBSP), date="samedi 21 novembre 2026 15:12",
  orig_rule="-----Message d'origine-----", ios="Envoyé de mon iPhone",
  outlook_app="Télécharger Outlook pour iOS", android="Envoyé depuis mon Galaxy",
  yahoo="Envoyé depuis Yahoo Mail pour Android", proton="Envoyé avec la messagerie sécurisée Proton Mail."),
 "es": dict(
  reply=["Gracias, la nueva versión funciona en mi equipo.", "Cerraré el ticket mañana."],
  orig=["¿Puedes comprobar si la nueva versión corrige el fallo?", "Juana"],
  gmail="El sáb, 21 nov 2026 a las 15:12, Juana García (<juana@example.es>) escribió:",
  apple="El 21 nov 2026, a las 15:12, Juana García <juana@example.es> escribió:",
  tb="El 21/11/26 a las 15:12, Juana García escribió:",
  keys=("De", "Enviado", "Para", "Asunto"), date="sábado, 21 de noviembre de 2026 15:12",
  orig_rule="-----Mensaje original-----", ios="Enviado desde mi iPhone",
  outlook_app="Obtener Outlook para iOS", android="Enviado desde mi Galaxy",
  yahoo="Enviado desde Yahoo Mail para Android", proton="Enviado con el correo electrónico seguro de Proton Mail."),
 "pt": dict(
  reply=["Obrigado, a nova versão funciona na minha máquina.", "Vou fechar o chamado amanhã."],
  orig=["Você pode verificar se a nova versão corrige a falha?", "Joana"],
  gmail="Em sáb., 21 de nov. de 2026 às 15:12, Joana Silva <joana@example.pt> escreveu:",
  apple="Em 21 de nov. de 2026, à(s) 15:12, Joana Silva <joana@example.pt> escreveu:",
  tb="Em 21/11/2026 15:12, Joana Silva escreveu:",
  keys=("De", "Enviado", "Para", "Assunto"), date="sábado, 21 de novembro de 2026 15:12",
  orig_rule="-----Mensagem original-----", ios="Enviado do meu iPhone",
  outlook_app="Obter o Outlook para iOS", android="Enviado do meu Galaxy",
  yahoo="Enviado do Yahoo Mail para iPhone", proton="Enviado com o e-mail seguro Proton Mail."),
 "it": dict(
  reply=["Grazie, la nuova versione funziona sul mio computer.", "Chiuderò il ticket domani."],
  orig=["Puoi verificare se la nuova versione risolve il crash?", "Giovanna"],
  gmail="Il giorno sab 21 nov 2026 alle ore 15:12 Giovanna Rossi <giovanna@example.it> ha scritto:",
  apple="Il giorno 21 nov 2026, alle ore 15:12, Giovanna Rossi <giovanna@example.it> ha scritto:",
  tb="Il 21/11/26 15:12, Giovanna Rossi ha scritto:",
  keys=("Da", "Inviato", "A", "Oggetto"), date="sabato 21 novembre 2026 15:12",
  orig_rule="-----Messaggio originale-----", ios="Inviato da iPhone",
  outlook_app="Scarica Outlook per iOS", android="Inviato dal mio Galaxy",
  yahoo="Inviato da Yahoo Mail su Android", proton="Inviato con l'email sicura di Proton Mail."),
 "nl": dict(
  reply=["Bedankt, de nieuwe versie werkt bij mij.", "Ik sluit het ticket morgen."],
  orig=["Kun je controleren of de nieuwe versie de crash oplost?", "Johanna"],
  gmail="Op za 21 nov 2026 om 15:12 schreef Johanna de Vries <johanna@example.nl>:",
  apple="Op 21 nov 2026 om 15:12 heeft Johanna de Vries <johanna@example.nl> het volgende geschreven:",
  tb="Op 21-11-2026 om 15:12 schreef Johanna de Vries:",
  keys=("Van", "Verzonden", "Aan", "Onderwerp"), date="zaterdag 21 november 2026 15:12",
  orig_rule="-----Oorspronkelijk bericht-----", ios="Verstuurd vanaf mijn iPhone",
  outlook_app="Download Outlook voor iOS", android="Verzonden vanaf mijn Galaxy",
  yahoo="Verzonden met Yahoo Mail voor Android", proton="Verzonden met Proton Mail beveiligde e-mail."),
 "sv": dict(
  reply=["Tack, den nya versionen fungerar hos mig.", "Jag stänger ärendet i morgon."],
  orig=["Kan du kontrollera om den nya versionen löser kraschen?", "Anna"],
  gmail="Den lör 21 nov. 2026 kl 15:12 skrev Anna Svensson <anna@example.se>:",
  apple="21 nov. 2026 kl. 15:12 skrev Anna Svensson <anna@example.se>:",
  tb="Den 2026-11-21 kl. 15:12, skrev Anna Svensson:",
  keys=("Från", "Skickat", "Till", "Ämne"), date="den 21 november 2026 15:12",
  orig_rule="-----Ursprungligt meddelande-----", ios="Skickat från min iPhone",
  outlook_app="Hämta Outlook för iOS", android="Skickat från min Galaxy",
  yahoo="Skickat från Yahoo Mail för Android", proton="Skickat med Proton Mail säker e-post."),
 "no": dict(
  reply=["Takk, den nye versjonen fungerer hos meg.", "Jeg lukker saken i morgen."],
  orig=["Kan du sjekke om den nye versjonen fikser krasjet?", "Kari"],
  gmail="lør. 21. nov. 2026 kl. 15:12 skrev Kari Nordmann <kari@example.no>:",
  apple="21. nov. 2026 kl. 15:12 skrev Kari Nordmann <kari@example.no>:",
  tb="Den 21.11.2026 15:12, skrev Kari Nordmann:",
  keys=("Fra", "Sendt", "Til", "Emne"), date="lørdag 21. november 2026 15:12",
  orig_rule="-----Opprinnelig melding-----", ios="Sendt fra min iPhone",
  outlook_app="Få Outlook for iOS", android="Sendt fra min Galaxy",
  yahoo="Sendt fra Yahoo Mail for Android", proton="Sendt med Proton Mail sikker e-post."),
 "da": dict(
  reply=["Tak, den nye version virker hos mig.", "Jeg lukker sagen i morgen."],
  orig=["Kan du tjekke, om den nye version retter nedbruddet?", "Mette"],
  gmail="Den lør. 21. nov. 2026 kl. 15.12 skrev Mette Hansen <mette@example.dk>:",
  apple="Den 21. nov. 2026 kl. 15.12 skrev Mette Hansen <mette@example.dk>:",
  tb="Den 21-11-2026 kl. 15:12 skrev Mette Hansen:",
  keys=("Fra", "Sendt", "Til", "Emne"), date="21. november 2026 15:12",
  orig_rule="-----Oprindelig meddelelse-----", ios="Sendt fra min iPhone",
  outlook_app="Hent Outlook til iOS", android="Sendt fra min Galaxy",
  yahoo="Sendt fra Yahoo Mail på Android", proton="Sendt med Proton Mail sikker e-mail."),
 "pl": dict(
  reply=["Dzięki, nowa wersja działa u mnie.", "Jutro zamknę zgłoszenie."],
  orig=["Czy możesz sprawdzić, czy nowa wersja naprawia awarię?", "Anna"],
  gmail="sob., 21 lis 2026 o 15:12 Anna Kowalska <anna@example.pl> napisał(a):",
  apple="Wiadomość napisana przez Anna Kowalska <anna@example.pl> w dniu 21.11.2026, o godz. 15:12:",
  tb="W dniu 21.11.2026 o 15:12, Anna Kowalska pisze:",
  keys=("Od", "Wysłano", "Do", "Temat"), date="sobota, 21 listopada 2026 15:12",
  orig_rule="-----Oryginalna wiadomość-----", ios="Wysłane z iPhone'a",
  outlook_app="Pobierz aplikację Outlook dla systemu iOS", android="Wysłane z mojego Galaxy",
  yahoo="Wysłane z Yahoo Poczty na Androida", proton="Wysłano z Proton Mail, bezpiecznej poczty."),
 "ru": dict(
  reply=["Спасибо, новая версия у меня работает.", "Закрою заявку завтра."],
  orig=["Можешь проверить, исправляет ли новая версия падение?", "Мария"],
  gmail="сб, 21 нояб. 2026 г. в 15:12, Мария Иванова <maria@example.ru>:",
  apple="21 нояб. 2026 г., в 15:12, Мария Иванова <maria@example.ru> написал(а):",
  tb="21.11.2026 15:12, Мария Иванова пишет:",
  keys=("От", "Отправлено", "Кому", "Тема"), date="21 ноября 2026 г. 15:12",
  orig_rule="-----Исходное сообщение-----", ios="Отправлено с iPhone",
  outlook_app="Получить Outlook для iOS", android="Отправлено с моего Galaxy",
  yahoo="Отправлено из Yahoo Почты для Android", proton="Отправлено с помощью защищённой почты Proton Mail."),
 "uk": dict(
  reply=["Дякую, нова версія у мене працює.", "Закрию заявку завтра."],
  orig=["Можеш перевірити, чи нова версія виправляє збій?", "Олена"],
  gmail="сб, 21 лист. 2026 р. о 15:12 Олена Коваленко <olena@example.ua> пише:",
  apple="21 лист. 2026 р. о 15:12 Олена Коваленко <olena@example.ua> написав(ла):",
  tb="21.11.2026 15:12, Олена Коваленко пише:",
  keys=("Від", "Надіслано", "Кому", "Тема"), date="21 листопада 2026 р. 15:12",
  orig_rule="-----Початкове повідомлення-----", ios="Надіслано з iPhone",
  outlook_app="Отримати Outlook для iOS", android="Надіслано з мого Galaxy",
  yahoo="Надіслано з Yahoo Mail для Android", proton="Надіслано з Proton Mail."),
 "zh": dict(
  reply=["谢谢，新版本在我的电脑上可以运行。", "我明天关闭这个工单。"],
  orig=["你能确认新版本是否修复了崩溃吗？", "王芳"],
  gmail="王芳 <fang@example.cn> 于2026年11月21日周六 15:12写道：",
  apple="2026年11月21日 15:12，王芳 <fang@example.cn> 写道：",
  tb="在 2026/11/21 15:12, 王芳 写道:",
  keys=("发件人", "发送时间", "收件人", "主题"), date="2026年11月21日 15:12",
  orig_rule="-----原始邮件-----", ios="发自我的iPhone",
  outlook_app="获取 Outlook for iOS", android="发自我的Galaxy",
  yahoo="Sent from Yahoo Mail for iPhone", proton="Sent with Proton Mail secure email."),
 "ja": dict(
  reply=["ありがとうございます。新しいビルドは手元で動きました。", "明日チケットを閉じます。"],
  orig=["新しいビルドでクラッシュが直ったか確認してもらえますか？", "山田"],
  gmail="2026年11月21日(土) 15:12 山田花子 <hanako@example.jp>:",
  apple="2026/11/21 15:12、山田花子 <hanako@example.jp>のメール:",
  tb="On 2026/11/21 15:12, 山田花子 wrote:",
  keys=("差出人", "送信日時", "宛先", "件名"), date="2026年11月21日 15:12",
  orig_rule="-----Original Message-----", ios="iPhoneから送信",
  outlook_app="iOS 用 Outlook を入手", android="Galaxy から送信",
  yahoo="Yahoo!メール iPhone版から送信", proton="Sent with Proton Mail secure email."),
 "ko": dict(
  reply=["감사합니다. 새 빌드가 제 컴퓨터에서 잘 동작합니다.", "내일 티켓을 닫겠습니다."],
  orig=["새 빌드에서 충돌이 해결되었는지 확인해 주시겠어요?", "지은"],
  gmail="2026년 11월 21일 (토) 오후 3:12, 김지은 <jieun@example.kr>님이 작성:",
  apple="2026. 11. 21. 오후 3:12, 김지은 <jieun@example.kr> 작성:",
  tb="2026-11-21 오후 3:12에 김지은 이(가) 쓴 글:",
  keys=("보낸 사람", "보낸 날짜", "받는 사람", "제목"), date="2026년 11월 21일 토요일 오후 3:12",
  orig_rule="-----원본 메시지-----", ios="iPhone에서 보냄",
  outlook_app="iOS용 Outlook 받기", android="Galaxy 스마트폰에서 보냈습니다.",
  yahoo="Sent from Yahoo Mail for iPhone", proton="Sent with Proton Mail secure email."),
}

SENDER = "Replygate <reply+abc123@example.org>"
ME = "Support <support@example.org>"


def q(lines, mark="> "):
    return "\n".join((mark + l).rstrip() for l in lines)


def e(s):
    return html.escape(s, quote=False)


def outlook_block(d, subject="Re: Build 1.2"):
    k = d["keys"]
    colon = ":" if d is not L["zh"] else "："
    return "\n".join([f"{k[0]}{colon} Jane <jane@example.com>", f"{k[1]}{colon} {d['date']}",
                      f"{k[2]}{colon} {ME}", f"{k[3]}{colon} {subject}"])


def outlook_block_html(d):
    k = d["keys"]
    return "<br>\n".join([f"<b>{e(k[0])}:</b> Jane &lt;jane@example.com&gt;",
                          f"<b>{e(k[1])}:</b> {e(d['date'])}",
                          f"<b>{e(k[2])}:</b> {e(ME)}", f"<b>{e(k[3])}:</b> Re: Build 1.2"])


def divs(lines):
    return "".join(f"<div>{e(l)}</div>" for l in lines)


# Each maker returns (extension, body); the reply is always d["reply"].
def gmail_text(d):
    return "txt", "\n".join(d["reply"]) + "\n\n" + d["gmail"] + "\n\n" + q(d["orig"]) + "\n"


def gmail_html(d):
    return "html", (f'<div dir="ltr">{divs(d["reply"])}</div><br>'
                    f'<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
                    f'{e(d["gmail"])}<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                    f'border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">{divs(d["orig"])}'
                    f'</div></blockquote></div>\n')


def outlook_text(d):
    return "txt", ("\n".join(d["reply"]) + "\n\n" + d["orig_rule"] + "\n" + outlook_block(d) + "\n\n" +
                   "\n".join(d["orig"]) + "\n")


def outlook_html(d):
    paras = "".join(f"<p class=MsoNormal>{e(l)}<o:p></o:p></p>\n" for l in d["reply"])
    orig = "".join(f"<p class=MsoNormal>{e(l)}<o:p></o:p></p>\n" for l in d["orig"])
    return "html", (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
        '<meta http-equiv=Content-Type content="text/html; charset=utf-8">'
        '<style><!-- p.MsoNormal {margin:0cm; font-size:11.0pt;} --></style>'
        '<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]-->'
        '</head><body lang=EN-US link="#0563C1"><div class=WordSection1>\n' + paras +
        '<p class=MsoNormal><o:p>&nbsp;</o:p></p>\n'
        "<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
        '<p class=MsoNormal>' + outlook_block_html(d) + '<o:p></o:p></p></div></div>\n'
        '<p class=MsoNormal><o:p>&nbsp;</o:p></p>\n' + orig + '</div></body></html>\n')


def owa_text(d):
    return "txt", ("\n".join(d["reply"]) + "\n\n" + d["outlook_app"] + "<https://aka.ms/o0ukef>\n" +
                   "_" * 32 + "\n" + outlook_block(d) + "\n\n" + "\n".join(d["orig"]) + "\n")


def owa_html(d):
    return "html", (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style></head>'
        '<body dir="ltr"><div class="elementToProof" style="font-family: Aptos, sans-serif; font-size: 12pt;">'
        + "<br>".join(e(l) for l in d["reply"]) + '</div>'
        '<div class="elementToProof"><br></div><div id="ms-outlook-mobile-signature"><div><br></div>'
        f'<a href="https://aka.ms/o0ukef">{e(d["outlook_app"])}</a></div>'
        '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
        '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">'
        + outlook_block_html(d) + '</font><div>&nbsp;</div></div><div>' + "<br>".join(e(l) for l in d["orig"])
        + '</div></body></html>\n')


def apple_text(d):
    return "txt", "\n".join(d["reply"]) + "\n\n" + q([d["apple"], ""] + d["orig"]) + "\n\n"


def apple_html(d):
    return "html", (
        '<html aria-label="message body"><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
        '<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">'
        + e(d["reply"][0]) + f'<div>{e(d["reply"][1])}</div>'
        '<div><br><blockquote type="cite"><div>' + e(d["apple"]) + '</div><br class="Apple-interchange-newline">'
        '<div><div>' + "<br>".join(e(l) for l in d["orig"]) + '</div></div></blockquote></div><br></body></html>\n')


def ios_text(d):
    return "txt", ("\n".join(d["reply"]) + "\n\n" + d["ios"] + "\n\n" + q([d["apple"], ""] + d["orig"]) + "\n")


def ios_html(d):
    return "html", (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
        f'<body dir="auto"><div dir="ltr">{e(d["reply"][0])}</div><div dir="ltr">{e(d["reply"][1])}</div>'
        f'<div dir="ltr"><br id="lineBreakAtBeginningOfSignature"><div dir="ltr">{e(d["ios"])}</div></div>'
        f'<div dir="ltr"><br><blockquote type="cite">{e(d["apple"])}<br><br></blockquote></div>'
        f'<blockquote type="cite"><div dir="ltr">{divs(d["orig"])}</div></blockquote></body></html>\n')


def tb_text(d):
    # Thunderbird posts below the quote by default, with its "-- " signature.
    return "txt", (d["tb"] + "\n" + q(d["orig"], ">") + "\n\n" + "\n".join(d["reply"]) +
                   "\n\n-- \nSupport team\n")


def tb_html(d):
    return "html", (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head>'
        '<body><p>' + "<br>\n".join(e(l) for l in d["reply"]) + '</p>\n'
        '<div class="moz-signature">-- <br>Support team</div>\n'
        f'<div class="moz-cite-prefix">{e(d["tb"])}<br></div>\n'
        '<blockquote type="cite" cite="mid:abc@example.com">' + "<br>\n".join(e(l) for l in d["orig"]) +
        '</blockquote></body></html>\n')


def yahoo_text(d):
    return "txt", ("\n".join(d["reply"]) + "\n\n" + d["yahoo"] + "\n\n\n    " + d["gmail"] + "  \n\n " +
                   "\n".join(d["orig"]) + "\n")


def yahoo_html(d):
    return "html", (
        '<html><head></head><body><div class="ydp5f1d yahoo-style-wrap" style="font-family:Helvetica;">'
        f'{divs(d["reply"])}<div><br></div><div class="ydpc0ffee signature">{e(d["yahoo"])}</div></div>'
        '<div id="ydp9e0yahoo_quoted_1234" class="yahoo_quoted"><div style="font-family:Helvetica;">'
        f'<div>{e(d["gmail"])}</div><div><br></div><div><div id="yiv123"><div>{divs(d["orig"])}</div></div>'
        '</div></div></div></body></html>\n')


def proton_text(d):
    return "txt", ("\n".join(d["reply"]) + "\n\n" + d["proton"] + "\n\n------- Original Message -------\n" +
                   d["gmail"] + "\n\n" + q(d["orig"]) + "\n")


def proton_html(d):
    return "html", (
        f'<div style="font-family: Arial, sans-serif; font-size: 14px;">{e(d["reply"][0])}</div>'
        f'<div style="font-family: Arial, sans-serif; font-size: 14px;">{e(d["reply"][1])}</div>'
        '<div style="font-family: Arial, sans-serif; font-size: 14px;"><br></div>'
        '<div class="protonmail_signature_block" style="font-family: Arial, sans-serif; font-size: 14px;">'
        '<div class="protonmail_signature_block-user protonmail_signature_block-empty"></div>'
        f'<div class="protonmail_signature_block-proton">{e(d["proton"])}</div></div>'
        '<div style="font-family: Arial, sans-serif; font-size: 14px;"><br></div>'
        '<div class="protonmail_quote">------- Original Message -------<br>'
        f'{e(d["gmail"])}<br><br><blockquote class="protonmail_quote" type="cite">'
        + "<br>".join(e(l) for l in d["orig"]) + '</blockquote><br></div>\n')


def k9_text(d):
    return "txt", ("\n".join(d["reply"]) + "\n-- \nSent from my Android device with K-9 Mail. Please excuse my brevity.\n\n"
                   + d["gmail"] + "\n" + q(d["orig"], ">") + "\n")


def k9_html(d):
    return "html", (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>" + "<br>".join(e(l) for l in d["reply"]) +
        "<br><div class='k9mail-signature'>-- <br>" + e(d["android"]) + "</div><br><br>" + e(d["gmail"]) +
        '<blockquote class="gmail_quote" style="margin: 0pt 0pt 0pt 0.8ex; border-left: 1px solid rgb(204, 204, 204); '
        'padding-left: 1ex;">' + "<br>".join(e(l) for l in d["orig"]) + "</blockquote></body></html>\n")


def zimbra_text(d):
    k = d["keys"]
    return "txt", ("\n".join(d["reply"]) + "\n\n----- Original Message -----\n" + outlook_block(d) + "\n\n" +
                   "\n".join(d["orig"]) + "\n")


def zimbra_html(d):
    return "html", (
        '<html><body><div style="font-family: arial, helvetica, sans-serif; font-size: 12pt; color: #000000">'
        f'{divs(d["reply"])}<div><br></div><hr id="zwchr" data-marker="__DIVIDER__">'
        '<div data-marker="__HEADERS__">' + outlook_block_html(d) + '<br></div><br>'
        '<div data-marker="__QUOTED_TEXT__">' + divs(d["orig"]) + '</div></div></body></html>\n')


def exchange_html(d):
    return "html", (
        '<html><body><div dir="ltr">' + divs(d["reply"]) + '</div>'
        '<div class="messageBodySection"><div dir="ltr">' + e(d["apple"]) + '</div><blockquote>'
        + divs(d["orig"]) + '</blockquote></div></body></html>\n')


MAKERS = [
    ("gmail", "text", gmail_text), ("gmail", "html", gmail_html),
    ("outlook", "text", outlook_text), ("outlook", "html", outlook_html),
    ("owa", "text", owa_text), ("owa", "html", owa_html),
    ("applemail", "text", apple_text), ("applemail", "html", apple_html),
    ("iosmail", "text", ios_text), ("iosmail", "html", ios_html),
    ("thunderbird", "text", tb_text), ("thunderbird", "html", tb_html),
    ("yahoo", "text", yahoo_text), ("yahoo", "html", yahoo_html),
    ("proton", "text", proton_text), ("proton", "html", proton_html),
    ("k9", "text", k9_text), ("k9", "html", k9_html),
    ("zimbra", "text", zimbra_text), ("zimbra", "html", zimbra_html),
    ("zimbra", "html2", exchange_html),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if "-g-" in f:
            os.remove(os.path.join(OUT, f))
    count = 0
    langs = list(L)
    for li, lang in enumerate(langs):
        d = L[lang]
        # Every language gets eight shapes; the rotation gives every
        # client both its forms in several languages.
        for k in range(8):
            client, form, make = MAKERS[(li * 3 + k * 5) % len(MAKERS)]
            ext, body = make(d)
            name = f"{client}-{lang}-g-{form}"
            with open(os.path.join(OUT, f"{name}.{ext}"), "w", encoding="utf-8") as fh:
                fh.write(body)
            with open(os.path.join(OUT, f"{name}.want"), "w", encoding="utf-8") as fh:
                fh.write("\n".join(d["reply"]) + "\n")
            count += 1
    print(f"wrote {count} generated items", file=sys.stderr)


if __name__ == "__main__":
    main()
