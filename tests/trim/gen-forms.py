#!/usr/bin/env python3
# gen-forms.py - write the round-two cases of tests/trim/corpus (issue 19):
# the forms real replies still got past the trimmer. Each form has at least
# three variants, in the languages whose clients write it. NAME is
# CLIENT-LANG-r2-WHAT; this script writes and removes only files with "-r2-"
# in their name, so the generated (-g-) and hand-written items stay as they
# are. The output is deterministic.
#
# Run: python3 tests/trim/gen-forms.py   (from the source root)
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
NBSP = "\u00a0"
CASES = []


def case(name, body, want, ext="txt"):
    CASES.append((name, ext, body, want))


def q(text):
    return "\n".join(("> " + l).rstrip() for l in text.split("\n"))


ORIG_EN = "Could you check whether the new build fixes the crash?\n\nJane"
ORIG_DE = "Kannst du prüfen, ob der neue Build den Absturz behebt?\n\nJana"
ORIG_FR = "Peux-tu vérifier si la nouvelle version corrige le plantage ?"
ORIG_RU = "Можешь проверить, исправляет ли новая версия падение?"

# 1. Never empty: a leading quote header, then unquoted paragraphs (mobile
#    clients that quote without '>'), or nothing but a signature.
case("samsung-en-r2-leading-header",
     'On 8 May 2017 17:34, "Jane Doe" <jane@example.com> wrote:\n\n'
     "I think we should ship it on Monday.\n\nThe tests pass on my side.\n",
     "I think we should ship it on Monday.\n\nThe tests pass on my side.")
case("samsung-de-r2-leading-header",
     'Am 08.05.2017 17:34 schrieb "Jana Schmidt" <jana@example.de>:\n\n'
     "Ich denke, wir können am Montag ausliefern.\nDie Tests laufen bei mir.\n\n"
     "Gesendet von meinem Samsung Galaxy Smartphone.\n",
     "Ich denke, wir können am Montag ausliefern.\nDie Tests laufen bei mir.")
case("iosmail-fr-r2-leading-header",
     "Le 8 mai 2017 à 17:34, Jeanne Martin <jeanne@example.fr> a écrit" + NBSP + ":\n\n"
     "Je pense qu'on peut livrer lundi.\n\n-- \nJeanne\n",
     "Je pense qu'on peut livrer lundi.")
case("k9-ru-r2-leading-header",
     "8 мая 2017 г., в 17:34, Мария Иванова <maria@example.ru> написал(а):\n\n"
     "Думаю, можно выпускать в понедельник.\n",
     "Думаю, можно выпускать в понедельник.")
case("gmail-es-r2-leading-header",
     "El lun, 8 may 2017 a las 17:34, Juana García (<juana@example.es>) escribió:\n"
     "Creo que podemos publicar el lunes.\n",
     "Creo que podemos publicar el lunes.")
case("iosmail-it-r2-header-below-device-signature",
     "Inviato da iPhone\n\nIl giorno 8 mag 2017, alle ore 17:34, Giovanna Rossi <giovanna@example.it> ha scritto:\n\n"
     "Penso che possiamo rilasciare lunedì.\n",
     "Penso che possiamo rilasciare lunedì.")
case("outlook-en-r2-only-device-signature",
     "Sent from my iPhone\n\n> On May 8, 2017, at 17:34, Jane Doe <jane@example.com> wrote:\n>\n"
     + q(ORIG_EN) + "\n",
     "Sent from my iPhone")
case("thunderbird-en-r2-only-signature",
     "On 08/05/2017 17:34, Jane Doe wrote:\n" + q(ORIG_EN) + "\n\n-- \nJohn Smith\nACME Corp.\n",
     "John Smith\nACME Corp.")
case("gmail-en-r2-html-all-in-quote",
     '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, May 8, 2017 at 5:34 PM '
     'Jane Doe &lt;jane@example.com&gt; wrote:<br></div><div>Yes, ship it on Monday.</div></div>',
     "Yes, ship it on Monday.", "html")

# 2a. Gmail's ISO date header, "2016-03-03 17:21 GMT+01:00 Name <addr>:"
case("gmail-en-r2-iso-date",
     "Sounds good to me.\n\n2016-03-03 17:21 GMT+01:00 Jane Doe <jane@example.com>:\n\n" + q(ORIG_EN) + "\n",
     "Sounds good to me.")
case("gmail-de-r2-iso-date",
     "Klingt gut.\n\n2016-03-03 17:21 GMT+01:00 Jana Schmidt <jana@example.de>:\n\n" + q(ORIG_DE) + "\n",
     "Klingt gut.")
case("gmail-pt-r2-iso-date-wrapped",
     "Parece bom.\n\n2016-03-03 17:21 GMT-03:00 Joana Silva dos Santos Pereira <\n"
     "joana.silva@example.pt>:\n\n> Você pode verificar se a nova versão corrige a falha?\n",
     "Parece bom.")
case("gmail-ru-r2-iso-date-unquoted",
     "Хорошо.\n\n2016-03-03 17:21 GMT+03:00 Мария Иванова <maria@example.ru>:\n\n" + ORIG_RU + "\n",
     "Хорошо.")

# 2b. The old Gmail form, "2013/7/20 Name via Site <addr>", on one line or two.
case("gmail-en-r2-old-date-via",
     "Thanks, merged.\n\n2013/7/20 Jane Doe via Example Tracker <notifications@example.com>\n\n"
     + q(ORIG_EN) + "\n",
     "Thanks, merged.")
case("gmail-en-r2-old-date-two-lines",
     "Thanks, merged.\n\n2013/7/20 Jane Doe via Example Tracker\n<notifications@example.com>\n\n"
     + q(ORIG_EN) + "\n",
     "Thanks, merged.")
case("gmail-ja-r2-old-date",
     "ありがとうございます。\n\n2013/7/20 山田花子 <hanako@example.jp>\n\n> 新しいビルドでクラッシュが直ったか確認してもらえますか？\n",
     "ありがとうございます。")
case("gmail-zh-r2-old-date-colon",
     "好的，谢谢。\n\n2013/7/20 王芳 <fang@example.cn>:\n\n> 你能确认新版本是否修复了崩溃吗？\n",
     "好的，谢谢。")
case("gmail-ko-r2-old-date-via",
     "네, 감사합니다.\n\n2013/7/20 김지은 via 예제 <notifications@example.kr>\n\n> 새 빌드에서 충돌이 해결되었는지 확인해 주시겠어요?\n",
     "네, 감사합니다.")
case("gmail-en-r2-trap-date-address-sentence",
     "Notes from the call:\n\n2015-12-22 meeting with <jane@example.com>\nWe agreed to ship on Monday.\n",
     "Notes from the call:\n\n2015-12-22 meeting with <jane@example.com>\nWe agreed to ship on Monday.")

# 2c. Zoho: "---- On ... Name <addr> wrote ----"
case("zoho-en-r2-dashes",
     "I'll take a look tomorrow.\n\n---- On Tue, 22 Dec 2015 14:05:10 +0100 Jane Doe <jane@example.com> wrote ----\n\n"
     + ORIG_EN + "\n",
     "I'll take a look tomorrow.")
case("zoho-de-r2-dashes",
     "Ich schaue es mir morgen an.\n\n---- Am Di, 22 Dez 2015 14:05:10 +0100 schrieb Jana Schmidt <jana@example.de> ----\n\n"
     + q(ORIG_DE) + "\n",
     "Ich schaue es mir morgen an.")
case("zoho-fr-r2-dashes",
     "Je regarde demain.\n\n---- Le mar., 22 déc. 2015 14:05:10 +0100 Jeanne Martin <jeanne@example.fr> a écrit ----\n\n"
     + ORIG_FR + "\n",
     "Je regarde demain.")
case("zoho-es-r2-dashes",
     "Lo miro mañana.\n\n---- El mar, 22 dic 2015 14:05:10 +0100 Juana García <juana@example.es> escribió ----\n\n"
     "¿Puedes comprobar si la nueva versión corrige el fallo?\n",
     "Lo miro mañana.")
case("zoho-en-r2-html",
     '<div>I\'ll take a look tomorrow.<br></div><div class="zmail_extra"><br><div id="1">'
     '<br>---- On Tue, 22 Dec 2015 14:05:10 +0100 <b>Jane Doe &lt;jane@example.com&gt;</b> wrote ----<br>'
     '</div><br><blockquote style="border-left: 1px solid rgb(204, 204, 204); padding-left: 6px;">'
     "<div>Could you check whether the new build fixes the crash?</div></blockquote></div>",
     "I'll take a look tomorrow.", "html")

# 2d. An Outlook marker wrapped in emphasis (text parts of rich mail).
case("gmail-en-r2-emphasis-original",
     "Done, see the ticket.\n\n*-------- Original Message --------*\n*Subject:* Build 1.2\n*Date:* Tue, 22 Dec 2015 14:05:10 +0100\n"
     "*From:* Jane Doe <jane@example.com>\n*To:* Support <support@example.org>\n\n" + ORIG_EN + "\n",
     "Done, see the ticket.")
case("gmail-de-r2-emphasis-original",
     "Erledigt.\n\n*-----Ursprüngliche Nachricht-----*\n*Von:* Jana Schmidt <jana@example.de>\n*Gesendet:* Dienstag, 22. Dezember 2015 14:05\n"
     "*An:* Support\n*Betreff:* Build 1.2\n\n" + ORIG_DE + "\n",
     "Erledigt.")
case("gmail-fr-r2-emphasis-original",
     "C'est fait.\n\n*-------- Message d'origine --------*\n*De :* Jeanne Martin <jeanne@example.fr>\n*Objet :* Build 1.2\n\n"
     + ORIG_FR + "\n",
     "C'est fait.")
case("outlook-es-r2-emphasis-original",
     "Hecho.\n\n_____ Mensaje original _____\nDe: Juana García\nEnviado: martes, 22 de diciembre de 2015 14:05\nAsunto: Build 1.2\n\n"
     "¿Puedes comprobar si la nueva versión corrige el fallo?\n",
     "Hecho.")

# 2e. Date-first headers: Russian, Ukrainian, Polish (Gmail), and the
#     languages whose clients write a date first too.
case("gmail-ru-r2-date-first-user",
     "Да, исправлено.\n\nпонедельник, 6 октября 2014 г. пользователь Мария Иванова написал:\n\n" + q(ORIG_RU) + "\n",
     "Да, исправлено.")
case("gmail-ru-r2-date-first-address",
     "Да, исправлено.\n\nПонедельник, 6 октября 2014 г. пользователь Мария Иванова <maria@example.ru> написал:\n"
     + q(ORIG_RU) + "\n",
     "Да, исправлено.")
case("mailru-ru-r2-date-first-unquoted",
     "Спасибо!\n\nПонедельник, 6 октября 2014, 12:00 +04:00 от Мария Иванова <maria@example.ru>:\n\n" + ORIG_RU + "\n",
     "Спасибо!")
case("gmail-uk-r2-date-first-user",
     "Так, виправлено.\n\nпонеділок, 6 жовтня 2014 р. користувач Олена Коваленко написав:\n\n"
     "> Можеш перевірити, чи нова версія виправляє збій?\n",
     "Так, виправлено.")
case("gmail-uk-r2-date-first-address",
     "Так, виправлено.\n\n6 жовтня 2014 р. 12:00 користувач Олена Коваленко <olena@example.ua> написав:\n\n"
     "> Можеш перевірити, чи нова версія виправляє збій?\n",
     "Так, виправлено.")
case("gmail-pl-r2-date-first-user",
     "Tak, naprawione.\n\nponiedziałek, 6 października 2014 użytkownik Anna Kowalska napisał:\n\n"
     "> Czy możesz sprawdzić, czy nowa wersja naprawia awarię?\n",
     "Tak, naprawione.")
case("gmail-pl-r2-date-first-address",
     "Tak, naprawione.\n\n6 października 2014 12:00 użytkownik Anna Kowalska <anna@example.pl> napisał:\n"
     "> Czy możesz sprawdzić, czy nowa wersja naprawia awarię?\n",
     "Tak, naprawione.")
case("onet-pl-r2-date-first-weekday",
     "Dzięki.\n\nPoniedziałek, 6 października 2014 12:00 Anna Kowalska <anna@example.pl> napisała:\n\n"
     "Czy możesz sprawdzić, czy nowa wersja naprawia awarię?\n",
     "Dzięki.")
case("applemail-sv-r2-date-first",
     "Tack, det fungerar.\n\n6 okt. 2014 kl. 12:00 skrev Anna Svensson <anna@example.se>:\n\n"
     "Kan du kontrollera om den nya versionen löser kraschen?\n",
     "Tack, det fungerar.")
case("gmail-de-r2-date-first-weekday",
     "Danke, läuft.\n\nMontag, 6. Oktober 2014 12:00 schrieb Jana Schmidt <jana@example.de>:\n" + q(ORIG_DE) + "\n",
     "Danke, läuft.")

# 2f. "On ... wrote:" broken over four lines or more, a <mailto:...> line of its own.
case("outlook-en-r2-wrapped-mailto-4",
     "Yes, that fixed it.\n\nOn Tue, Dec 22, 2015 at 2:05 PM,\nJane Doe\n<jane@example.com\n"
     "<mailto:jane@example.com>> wrote:\n\n" + q(ORIG_EN) + "\n",
     "Yes, that fixed it.")
case("outlook-en-r2-wrapped-mailto-5",
     "Yes, that fixed it.\n\nOn Tue, Dec 22, 2015 at 2:05 PM,\nJane Doe from the Example Project\n"
     "Tracker\n<notifications@tracker.example.com\n<mailto:notifications@tracker.example.com>>\nwrote:\n\n"
     + q(ORIG_EN) + "\n",
     "Yes, that fixed it.")
case("outlook-de-r2-wrapped-mailto",
     "Ja, das hat geholfen.\n\nAm Di., 22. Dez. 2015 um 14:05 Uhr schrieb\nJana Schmidt\n<jana@example.de\n"
     "<mailto:jana@example.de>>:\n\n" + q(ORIG_DE) + "\n",
     "Ja, das hat geholfen.")
case("outlook-fr-r2-wrapped-mailto-unquoted",
     "Oui, c'est réglé.\n\nLe mar. 22 déc. 2015 à 14:05,\nJeanne Martin\n<jeanne@example.fr\n"
     "<mailto:jeanne@example.fr>> a écrit :\n\n" + ORIG_FR + "\n",
     "Oui, c'est réglé.")

# 2g. "Am ... schrieb "Name" <addr" whose ">:" wraps onto the next line.
case("gmx-de-r2-wrapped-close",
     "Passt, danke.\n\nAm 21.11.2026 um 15:12 schrieb \"Jana Schmidt\" <jana.schmidt@example.de\n>:\n\n"
     + q(ORIG_DE) + "\n",
     "Passt, danke.")
case("webde-de-r2-wrapped-close-unquoted",
     "Passt, danke.\n\nAm 21.11.2026 um 15:12 schrieb \"Jana Schmidt\" <jana.schmidt@example.de\n>:\n\n"
     + ORIG_DE + "\n",
     "Passt, danke.")
case("thunderbird-en-r2-wrapped-close",
     "Fine by me.\n\nOn 21/11/2026 15:12, \"Jane Doe (Example Tracker)\" <notifications@tracker.example.com\n> wrote:\n"
     + q(ORIG_EN) + "\n",
     "Fine by me.")
case("thunderbird-nl-r2-wrapped-close",
     "Prima.\n\nOp 21-11-2026 om 15:12 schreef \"Johanna de Vries\" <johanna.de.vries@example.nl\n>:\n"
     "> Kun je controleren of de nieuwe versie de crash oplost?\n",
     "Prima.")

# 3a. A "--" line with no trailing space, then a short block.
case("gmail-en-r2-dashdash-block",
     "Thanks for the quick fix.\n\n--\nBest regards,\nJohn Smith\nSenior Engineer, ACME Corp.\n"
     "https://acme.example.com\nhttps://twitter.com/acme\nPhone: +1 555 0100\nMobile: +1 555 0101\n",
     "Thanks for the quick fix.")
case("gmx-de-r2-dashdash-block",
     "Danke für die schnelle Korrektur.\n\n--\nMit freundlichen Grüßen\nJana Schmidt\nBeispiel GmbH\n"
     "Musterstraße 1, 10115 Berlin\nTel.: +49 30 1234567\nFax: +49 30 1234568\nwww.beispiel.example\n",
     "Danke für die schnelle Korrektur.")
case("outlook-fr-r2-dashdash-block",
     "Merci pour la correction.\n--\nCordialement,\nJeanne Martin\nExemple SARL\n01 23 45 67 89\n"
     "https://exemple.example.fr\n\nLe 21 nov. 2026 à 15:12, Tracker <t@example.fr> a écrit :\n> " + ORIG_FR + "\n",
     "Merci pour la correction.")
case("gmail-en-r2-dashdash-prose-kept",
     "Option one is faster.\n--\nOption two is safer, but it needs a migration that takes a whole night\n"
     "and a downtime window that we would have to announce a week in advance.\n"
     "I prefer option two anyway, because the data matters more than the speed.\n"
     "Let us discuss it on Monday.\nWe can decide then.\nThanks.\nJohn\n",
     "Option one is faster.\n--\nOption two is safer, but it needs a migration that takes a whole night\n"
     "and a downtime window that we would have to announce a week in advance.\n"
     "I prefer option two anyway, because the data matters more than the speed.\n"
     "Let us discuss it on Monday.\nWe can decide then.\nThanks.\nJohn")

# 3b. Several device signatures stacked at the end: every one is cut.
case("iosmail-en-r2-stacked-signatures",
     "Works for me.\n\nSent from my iPhone\nSent from Mailbox for iPad\n(Sent from mobile device)\n"
     "<<sent by galaxy>>\nGet Outlook for iOS<https://aka.ms/o0ukef>\n",
     "Works for me.")
case("iosmail-fr-r2-stacked-signatures",
     "Ça marche pour moi.\n\nEnvoyé depuis mon iPhone\n\nEnvoyé de mon appareil Galaxy\n"
     "Télécharger Outlook pour Android<https://aka.ms/AAb9ysg>\n",
     "Ça marche pour moi.")
case("iosmail-de-r2-stacked-signatures",
     "Passt.\n\nVon meinem Mobilgerät gesendet\nGesendet mit der WEB.DE Mail App\n"
     "Diese Nachricht wurde von meinem Android-Mobiltelefon mit GMX Mail gesendet.\n",
     "Passt.")
case("iosmail-zh-r2-stacked-signatures",
     "可以。\n\n從我的 iPhone 傳送\n发自我的华为手机\n从我的 iPhone 发送\n",
     "可以。")
case("outlook-nl-r2-stacked-signatures",
     "Werkt bij mij.\n\nVerzonden met BlackBerry Work\n(www.blackberry.com)\nVerzonden vanuit Outlook voor Android\n",
     "Werkt bij mij.\n\nVerzonden met BlackBerry Work\n(www.blackberry.com)")
case("outlook-es-r2-stacked-signatures",
     "Me funciona.\n\nEnviado desde mi smartphone Samsung Galaxy.\nObtener Outlook para Android\n\n"
     "> El 21 nov 2026, a las 15:12, Juana <juana@example.es> escribió:\n> ¿Puedes comprobar si la nueva versión corrige el fallo?\n",
     "Me funciona.")
case("iosmail-ja-r2-stacked-signatures",
     "動きました。\n\niPhoneから送信\nAndroid のモバイル デバイスから送信されました\n",
     "動きました。")
case("yahoo-ru-r2-stacked-signatures",
     "Работает.\n\nОтправлено с iPhone\nОтправлено из мобильной Почты Mail.ru\n",
     "Работает.")
case("gmail-pl-r2-stacked-signatures",
     "Działa.\n\nWysłane z iPhone'a\nWysłano z aplikacji Outlook dla systemu Android\n",
     "Działa.")
case("iosmail-pt-r2-stacked-signatures",
     "Funciona.\n\nEnviado de meu iPhone\nEnviado do Outlook para Android\n",
     "Funciona.")
case("iosmail-sv-r2-stacked-signatures",
     "Fungerar.\n\nSkickat från min iPhone\nHämta Outlook för Android\n",
     "Fungerar.")
case("iosmail-it-r2-stacked-signatures",
     "Funziona.\n\nInviato da iPhone\nInviato dal mio dispositivo Galaxy\n",
     "Funziona.")
case("iosmail-ko-r2-stacked-signatures",
     "잘 됩니다.\n\niPhone에서 보냄\nGalaxy 스마트폰에서 보냈습니다.\n",
     "잘 됩니다.")
case("iosmail-uk-r2-stacked-signatures",
     "Працює.\n\nНадіслано з iPhone\nВідправлено з мого Samsung Galaxy\n",
     "Працює.")

# 4. Delimiter lines at the end start the cut part; inside a sentence they
#    do not; trailing separators after an Outlook block go too.
case("gmail-en-r2-delimiter-underscores",
     "See you on Monday.\n\n___\nJane Doe | ACME Corp.\nhttps://acme.example.com\n",
     "See you on Monday.")
case("gmail-en-r2-delimiter-equals",
     "See you on Monday.\n\n========================================\nJane Doe\njane@acme.example.com\n+1 555 0100\n",
     "See you on Monday.")
case("gmail-de-r2-delimiter-stars",
     "Bis Montag.\n\n**********\nViele Grüße\nJana\n",
     "Bis Montag.")
case("gmail-en-r2-delimiter-tildes-hashes",
     "See you on Monday.\n\n~~~~~~~~~~\n##########\n++++++++++\n",
     "See you on Monday.")
case("gmail-en-r2-tracking-mark",
     "See you on Monday.\n\u1427\n\nOn Tue, Dec 22, 2015 at 2:05 PM, Jane Doe <jane@example.com> wrote:\n\n" + q(ORIG_EN) + "\n",
     "See you on Monday.")
case("gmail-es-r2-tracking-mark",
     "Nos vemos el lunes.\n\u1427\nJuana García\nhttps://example.es\n",
     "Nos vemos el lunes.")
case("outlook-en-r2-delimiter-disclaimer",
     "Approved, go ahead.\n\n--------------------------------------------------\n"
     "This e-mail and any attachments are confidential and may be privileged. If you are not the\n"
     "intended recipient, please notify the sender immediately and delete this message.\n",
     "Approved, go ahead.")
case("outlook-de-r2-delimiter-disclaimer",
     "Freigegeben.\n\n__________________________________________________\n"
     "Diese E-Mail enthält vertrauliche Informationen. Wenn Sie nicht der richtige Adressat sind,\n"
     "informieren Sie bitte sofort den Absender und vernichten Sie diese E-Mail.\n",
     "Freigegeben.")
case("outlook-fr-r2-delimiter-disclaimer",
     "Validé.\n\n==================================================\n"
     "Ce message et ses pièces jointes sont confidentiels et établis à l'intention exclusive de\n"
     "ses destinataires. Toute utilisation non conforme est interdite.\n",
     "Validé.")
case("gmail-en-r2-trap-dashes-in-sentence",
     "This is not a ---------- delimiter.\nNeither is this ====== one.\n",
     "This is not a ---------- delimiter.\nNeither is this ====== one.")
case("gmail-en-r2-trap-rule-then-ps",
     "Thanks, merged.\n\n---\n\nP.S. the release notes are at https://example.com/notes\n",
     "Thanks, merged.\n\n---\n\nP.S. the release notes are at https://example.com/notes")
case("gmail-en-r2-trap-rule-between-paragraphs",
     "First, the build is green again.\n\n-----\n\nSecond, the crash on ARM is still open and I am\n"
     "looking into the linker flags that we changed last week.\n",
     "First, the build is green again.\n\n-----\n\nSecond, the crash on ARM is still open and I am\n"
     "looking into the linker flags that we changed last week.")
case("outlook-en-r2-separators-after-block",
     "Approved.\n\n------------------------------\n________________________________\nFrom: Jane Doe <jane@example.com>\n"
     "Sent: Tuesday, December 22, 2015 2:05 PM\nTo: Support <support@example.org>\nSubject: Re: Build 1.2\n\n" + ORIG_EN + "\n",
     "Approved.")
case("outlook-de-r2-separators-after-block",
     "Freigegeben.\n\n==============================\n\nVon: Jana Schmidt <jana@example.de>\nGesendet: Dienstag, 22. Dezember 2015 14:05\n"
     "An: Support\nBetreff: Build 1.2\n\n" + ORIG_DE + "\n",
     "Freigegeben.")
case("outlook-pl-r2-separators-after-block",
     "Zatwierdzone.\n\n-----------\n-----------\n\n-----Oryginalna wiadomość-----\nOd: Anna Kowalska\nWysłano: 22 grudnia 2015 14:05\n"
     "Do: Wsparcie\nTemat: Build 1.2\n\nCzy możesz sprawdzić?\n",
     "Zatwierdzone.")

# 5. Windows Mail: From, Sent and To, no Subject, in the languages it writes.
WM = [
    ("en", "Works now, thanks.", ("From", "Sent", "To"), "Tuesday, December 22, 2015 2:05 PM", ORIG_EN),
    ("de", "Geht jetzt, danke.", ("Von", "Gesendet", "An"), "Dienstag, 22. Dezember 2015 14:05", ORIG_DE),
    ("fr", "Ça marche, merci.", ("De", "Envoyé", "À"), "mardi 22 décembre 2015 14:05", ORIG_FR),
    ("es", "Ya funciona, gracias.", ("De", "Enviado", "Para"), "martes, 22 de diciembre de 2015 14:05",
     "¿Puedes comprobar si la nueva versión corrige el fallo?"),
    ("it", "Ora funziona, grazie.", ("Da", "Inviato", "A"), "martedì 22 dicembre 2015 14:05",
     "Puoi verificare se la nuova versione risolve il crash?"),
    ("nl", "Werkt nu, bedankt.", ("Van", "Verzonden", "Aan"), "dinsdag 22 december 2015 14:05",
     "Kun je controleren of de nieuwe versie de crash oplost?"),
    ("pl", "Działa, dzięki.", ("Od", "Wysłano", "Do"), "wtorek, 22 grudnia 2015 14:05",
     "Czy możesz sprawdzić, czy nowa wersja naprawia awarię?"),
    ("ru", "Работает, спасибо.", ("От", "Отправлено", "Кому"), "22 декабря 2015 г. 14:05", ORIG_RU),
    ("ja", "直りました。", ("差出人", "送信日時", "宛先"), "2015年12月22日 14:05", "確認してもらえますか？"),
    ("sv", "Fungerar nu, tack.", ("Från", "Skickat", "Till"), "den 22 december 2015 14:05",
     "Kan du kontrollera om den nya versionen löser kraschen?"),
]
for lang, reply, keys, date, orig in WM:
    sep = ": " if lang != "fr" else NBSP + ": "
    case(f"windowsmail-{lang}-r2-block-without-subject",
         (f"{reply}\n\nSent from Mail for Windows 10\n\n" if lang == "en" else f"{reply}\n\n")
         + f"{keys[0]}{sep}Jane Doe\n{keys[1]}{sep}{date}\n{keys[2]}{sep}Support\n\n{orig}\n",
         reply)
case("windowsmail-en-r2-trap-plan-kept",
     "My plan:\n\nFrom: Berlin\nTo: Paris\nDate: Tuesday 22 December 2015\n\nOk?\n",
     "My plan:\n\nFrom: Berlin\nTo: Paris\nDate: Tuesday 22 December 2015\n\nOk?")

# 6. A <blockquote> that no client marked is the author's inline quote: kept
#    as "> " lines. One that a quote header introduces is still cut.
case("roundcube-en-r2-unmarked-blockquote",
     "<p>The spec says:</p><blockquote>Every reply is stored once.</blockquote>",
     "The spec says:\n\n> Every reply is stored once.", "html")
case("roundcube-de-r2-unmarked-blockquote",
     "<div>Wie im Handbuch steht:</div><blockquote style=\"margin:0 0 0 40px;border:none;padding:0px\">"
     "<div>Jede Antwort wird einmal gespeichert.</div><div>Auch bei zwei Empfängern.</div></blockquote>",
     "Wie im Handbuch steht:\n> Jede Antwort wird einmal gespeichert.\n> Auch bei zwei Empfängern.", "html")
case("gmail-fr-r2-unmarked-blockquote-signature",
     "<div dir=\"ltr\"><div>Comme tu l'as écrit :</div><blockquote><i>On livre lundi.</i></blockquote>"
     "<div>D'accord.</div></div><br><div class=\"gmail_signature\">-- <br>Jeanne</div>",
     "Comme tu l'as écrit :\n> On livre lundi.\nD'accord.", "html")
case("proton-en-r2-unmarked-blockquote-then-quote",
     "<div>Quoting the docs:</div><blockquote>Replies are never lost.</blockquote>"
     "<div class=\"protonmail_quote\">------- Original Message -------<br>On Tuesday, December 22nd, 2015 at 14:05, Jane &lt;jane@example.com&gt; wrote:<br>"
     "<blockquote class=\"protonmail_quote\" type=\"cite\">Are replies ever lost?</blockquote></div>",
     "Quoting the docs:\n> Replies are never lost.", "html")
case("yandex-ru-r2-blockquote-after-header-cut",
     "<div>Спасибо!</div><div>&nbsp;</div><div>22.12.2015, 14:05, \"Мария Иванова\" &lt;maria@example.ru&gt;:</div>"
     "<blockquote><div>Можешь проверить, исправляет ли новая версия падение?</div></blockquote>",
     "Спасибо!", "html")

# Kept on purpose: forwards keep the forwarded text, inline replies keep the
# quoted lines between answers, code blocks are never cut.
case("zoho-en-r2-forward-kept",
     "============ Forwarded message ============\nFrom: Jane Doe <jane@example.com>\nTo: Support\n"
     "Date: Tue, 22 Dec 2015 14:05:10 +0100\nSubject: Build 1.2\n============ Forwarded message ============\n\nThe crash is back.\n",
     "============ Forwarded message ============\nFrom: Jane Doe <jane@example.com>\nTo: Support\n"
     "Date: Tue, 22 Dec 2015 14:05:10 +0100\nSubject: Build 1.2\n============ Forwarded message ============\n\nThe crash is back.")
case("gmail-de-r2-inline-kept",
     "Hallo,\n\nAm 21.11.2026 um 15:12 schrieb Jana <jana@example.de>:\n> Geht der Build?\n\nJa.\n\n> Und die Tests?\n\nAuch.\n",
     "Hallo,\n\nAm 21.11.2026 um 15:12 schrieb Jana <jana@example.de>:\n> Geht der Build?\n\nJa.\n\n> Und die Tests?\n\nAuch.")
case("gmail-en-r2-code-kept",
     "Run this:\n\n```\n-----\n--\nSent from my iPhone\n> not a quote\n```\n",
     "Run this:\n\n```\n-----\n--\nSent from my iPhone\n> not a quote\n```")


def main():
    for f in os.listdir(OUT):
        if "-r2-" in f:
            os.remove(os.path.join(OUT, f))
    names = set()
    for name, ext, body, want in CASES:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(OUT, f"{name}.{ext}"), "w", encoding="utf-8") as fh:
            fh.write(body)
        with open(os.path.join(OUT, f"{name}.want"), "w", encoding="utf-8") as fh:
            fh.write(want + "\n")
    print(f"wrote {len(CASES)} round-two items", file=__import__("sys").stderr)


if __name__ == "__main__":
    main()
