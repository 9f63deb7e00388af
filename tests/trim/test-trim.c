/*
 * test-trim.c - table-driven unit tests of trim_reply() and html_to_text():
 * label, input, the reply (or text) wanted and the quoted part wanted; the
 * quote header, device signature and delimiter matchers line by line; the
 * lines html_to_text_marked() marks as the author's inline quote.
 */
#include <string.h>

#include "trim-private.h"
#include "trim.h"

typedef struct {
    const char *label;
    const char *input;
    const char *want_reply;
    const char *want_quoted;
} Case;

static const Case trim_cases[] = {
    {"empty", "", "", ""},
    {"plain", "Just a reply.\n", "Just a reply.", ""},
    {"crlf", "Line one\r\nLine two\r\n", "Line one\nLine two", ""},
    {"gmail-en",
     "Thanks!\n\nOn Sat, Nov 21, 2026 at 3:12 PM Jane <jane@example.com> wrote:\n\n> Question?\n",
     "Thanks!", "On Sat, Nov 21, 2026 at 3:12 PM Jane <jane@example.com> wrote:\n\n> Question?"},
    {"gmail-wrapped-2",
     "Yes.\n\nOn Sat, Nov 21, 2026 at 3:12 PM Jane Doe <\njane@example.com> wrote:\n> q\n", "Yes.",
     "On Sat, Nov 21, 2026 at 3:12 PM Jane Doe <\njane@example.com> wrote:\n> q"},
    {"gmail-wrapped-3",
     "Yes.\nOn Sat, Nov 21, 2026 at 3:12 PM Jane Doe via\nExample Project "
     "<notifications+x@example.com>\nwrote:\n\n> q\n",
     "Yes.",
     "On Sat, Nov 21, 2026 at 3:12 PM Jane Doe via\nExample Project "
     "<notifications+x@example.com>\nwrote:\n\n> q"},
    {"chinese-wrapped",
     "好。\n\n王芳 <fang@example.cn> 于2026年11月21日周六\n15:12写道：\n> 问题\n", "好。",
     "王芳 <fang@example.cn> 于2026年11月21日周六\n15:12写道：\n> 问题"},
    {"thanks-above-wrapped",
     "Thanks!\nOn Sat, Nov 21, 2026 at 3:12 PM Jane <\njane@example.com> wrote:\n> q\n", "Thanks!",
     "On Sat, Nov 21, 2026 at 3:12 PM Jane <\njane@example.com> wrote:\n> q"},
    {"polish-wrapped-weekday",
     "Dzięki.\n\nsob., 21 lis 2026 o 15:12 Tracker <\nreply+i-97-abc@reply.example.com> "
     "napisał(a):\n\n> q\n",
     "Dzięki.",
     "sob., 21 lis 2026 o 15:12 Tracker <\nreply+i-97-abc@reply.example.com> napisał(a):\n\n> q"},
    {"chinese-wrapped-address",
     "好的。\n\nTracker <\nreply+i-15-ef@reply.example.com> 于2026年11月21日周六 15:12写道：\n\n> "
     "q\n",
     "好的。",
     "Tracker <\nreply+i-15-ef@reply.example.com> 于2026年11月21日周六 15:12写道：\n\n> q"},
    {"bom-and-zero-width", "\xEF\xBB\xBFOk\n\u200b\nSent from my iPhone\n\u200b\n",
     "\xEF\xBB\xBFOk", "Sent from my iPhone"},
    {"german-am-schrieb",
     "Passt.\n\nAm 21.11.2026 um 15:12 schrieb Jana <jana@example.de>:\n> Frage\n", "Passt.",
     "Am 21.11.2026 um 15:12 schrieb Jana <jana@example.de>:\n> Frage"},
    {"french-nbsp",
     "D'accord.\n\nLe sam. 21 nov. 2026 à 15:12, Jeanne <j@example.fr> a écrit\u00a0:\n> "
     "question\n",
     "D'accord.", "Le sam. 21 nov. 2026 à 15:12, Jeanne <j@example.fr> a écrit\u00a0:\n> question"},
    {"korean-date-first",
     "네.\n\n2026. 11. 21. 오후 3:12, 김지은 <jieun@example.kr> 작성:\n> 질문\n", "네.",
     "2026. 11. 21. 오후 3:12, 김지은 <jieun@example.kr> 작성:\n> 질문"},
    {"japanese-date-first",
     "はい。\n\n2026年11月21日(土) 15:12 山田花子 <hanako@example.jp>:\n> 質問\n", "はい。",
     "2026年11月21日(土) 15:12 山田花子 <hanako@example.jp>:\n> 質問"},
    {"chinese-fullwidth-colon",
     "好的。\n\n王芳 <fang@example.cn> 于2026年11月21日周六 15:12写道：\n> 问题\n", "好的。",
     "王芳 <fang@example.cn> 于2026年11月21日周六 15:12写道：\n> 问题"},
    {"russian-gmail-no-verb",
     "Да.\n\nсб, 21 нояб. 2026 г. в 15:12, Мария <maria@example.ru>:\n> вопрос\n", "Да.",
     "сб, 21 нояб. 2026 г. в 15:12, Мария <maria@example.ru>:\n> вопрос"},
    {"outlook-block-en",
     "Done.\n\nFrom: Jane <jane@example.com>\nSent: Saturday, November 21, 2026 3:12 PM\nTo: "
     "Me\nSubject: Re: x\n\nold text\n",
     "Done.",
     "From: Jane <jane@example.com>\nSent: Saturday, November 21, 2026 3:12 PM\nTo: Me\nSubject: "
     "Re: x\n\nold text"},
    {"outlook-bold-keys", "Ok\n\n*From:* Jane\n*Sent:* Sat\n*To:* Me\n*Subject:* x\n\nold\n", "Ok",
     "*From:* Jane\n*Sent:* Sat\n*To:* Me\n*Subject:* x\n\nold"},
    {"outlook-underscore-ru",
     "Готово.\n\n________________________________\nОт: Мария\nОтправлено: 21 ноября\nКому: "
     "Я\nТема: x\n\nстарое\n",
     "Готово.",
     "________________________________\nОт: Мария\nОтправлено: 21 ноября\nКому: Я\nТема: "
     "x\n\nстарое"},
    {"original-message-de", "Ja.\n\n-----Ursprüngliche Nachricht-----\nVon: A\nAn: B\n\nalt\n",
     "Ja.", "-----Ursprüngliche Nachricht-----\nVon: A\nAn: B\n\nalt"},
    {"underscore-alone-kept", "Part one\n__________\nPart two\n", "Part one\n__________\nPart two",
     ""},
    {"gt-quote-trailing", "Answer\n\n> old\n> older\n", "Answer", "> old\n> older"},
    {"sig-dash-space", "Answer\n\n-- \nJohn Smith\nACME\n", "Answer", "-- \nJohn Smith\nACME"},
    {"sig-iphone", "Answer\n\nSent from my iPhone\n", "Answer", "Sent from my iPhone"},
    {"sig-iphone-de", "Antwort\n\nVon meinem iPhone gesendet\n", "Antwort",
     "Von meinem iPhone gesendet"},
    {"sig-iphone-ja", "返信\n\niPhoneから送信\n", "返信", "iPhoneから送信"},
    {"sig-iphone-ko", "답장\n\niPhone에서 보냄\n", "답장", "iPhone에서 보냄"},
    {"sig-outlook-ios", "Reply\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n", "Reply",
     "Get Outlook for iOS<https://aka.ms/o0ukef>"},
    {"sig-in-middle-kept", "Sent from my iPhone\n\nIgnore that line, I am at my desk.\n",
     "Sent from my iPhone\n\nIgnore that line, I am at my desk.", ""},
    {"sig-then-quote",
     "Yes\n\nSent from my iPhone\n\n> On Nov 21, 2026, at 15:12, J <j@x.com> wrote:\n> q\n", "Yes",
     "Sent from my iPhone\n\n> On Nov 21, 2026, at 15:12, J <j@x.com> wrote:\n> q"},
    {"on-sentence-kept", "On Monday we deploy.\nOn second thought, wait.\n",
     "On Monday we deploy.\nOn second thought, wait.", ""},
    {"wrote-in-url-kept", "On 21 Nov the link was https://example.com/2026/she-wrote:\n",
     "On 21 Nov the link was https://example.com/2026/she-wrote:", ""},
    {"code-fence-kept", "Run:\n```\n--\n> not a quote\nOn 2026-11-21 at 3:12 bot wrote:\n```\n",
     "Run:\n```\n--\n> not a quote\nOn 2026-11-21 at 3:12 bot wrote:\n```", ""},
    {"code-fence-unclosed", "Run:\n```\ncode\n\n> q\n", "Run:\n```\ncode", "> q"},
    {"bottom-post",
     "On Sat, Nov 21, 2026 at 3:12 PM J <j@x.com> wrote:\n> q\n\nMy answer.\n\n-- \nMe\n",
     "My answer.", "On Sat, Nov 21, 2026 at 3:12 PM J <j@x.com> wrote:\n> q\n-- \nMe"},
    {"inline",
     "Hi,\n\nOn Sat, Nov 21, 2026 at 3:12 PM J <j@x.com> wrote:\n> q1?\n\nYes.\n\n> "
     "q2?\n\nNo.\n\n> bye\n",
     "Hi,\n\nOn Sat, Nov 21, 2026 at 3:12 PM J <j@x.com> wrote:\n> q1?\n\nYes.\n\n> q2?\n\nNo.",
     "> bye"},
    {"inline-no-header", "> q1\na1\n> q2\na2\n", "> q1\na1\n> q2\na2", ""},
    {"forward-gmail",
     "---------- Forwarded message ---------\nFrom: Jane <j@x.com>\nDate: Sat, Nov 21, "
     "2026\nSubject: R\nTo: <me@x.com>\n\nReport.\n",
     "---------- Forwarded message ---------\nFrom: Jane <j@x.com>\nDate: Sat, Nov 21, "
     "2026\nSubject: R\nTo: <me@x.com>\n\nReport.",
     ""},
    {"forward-apple-fr", "Début du message réexpédié :\n\nDe: J\nObjet: R\n\nTexte\n",
     "Début du message réexpédié :\n\nDe: J\nObjet: R\n\nTexte", ""},
    {"forward-outlook-only",
     "________________________________\nFrom: J\nSent: Sat\nTo: Me\nSubject: R\n\nTexte\n",
     "________________________________\nFrom: J\nSent: Sat\nTo: Me\nSubject: R\n\nTexte", ""},
    {"only-quote", "> q\n", "", "> q"},
    {"itinerary-kept", "My plan:\n\nFrom: Berlin\nTo: Paris\nDate: Monday 21 Nov\n\nOk?\n",
     "My plan:\n\nFrom: Berlin\nTo: Paris\nDate: Monday 21 Nov\n\nOk?", ""},
    {"yahoo-inline-header",
     "Sure!\n\n  On Sat, Nov 21, 2026 at 15:12, J<j@x.com> wrote:   Meet at 4?\n", "Sure!",
     "  On Sat, Nov 21, 2026 at 15:12, J<j@x.com> wrote:   Meet at 4?"},
    {"outlook-date-key", "Ok\n\nFrom: J\nDate: Sat\nTo: Me\nSubject: R\n\nold\n", "Ok",
     "From: J\nDate: Sat\nTo: Me\nSubject: R\n\nold"},
    {"danish-dot-time", "Fint.\n\nDen lør. 21. nov. 2026 kl. 15.12 skrev Mette <m@x.dk>:\n> ?\n",
     "Fint.", "Den lør. 21. nov. 2026 kl. 15.12 skrev Mette <m@x.dk>:\n> ?"},
    {"polish-thunderbird", "Ok.\n\nW dniu 21.11.2026 o 15:12, Anna Kowalska pisze:\n> ?\n", "Ok.",
     "W dniu 21.11.2026 o 15:12, Anna Kowalska pisze:\n> ?"},
    /* Issue 19: never empty when the body has text. */
    {"never-empty-leading-header",
     "On 8 May 2017 17:34, \"Jane\" <jane@example.com> wrote:\n\nShip it.\n\n-- \nMe\n", "Ship it.",
     "On 8 May 2017 17:34, \"Jane\" <jane@example.com> wrote:\n-- \nMe"},
    {"never-empty-header-below-device-signature",
     "Sent from my iPhone\n\nOn 8 May 2017 17:34, \"Jane\" <jane@example.com> wrote:\n\nShip it.\n",
     "Ship it.", "Sent from my iPhone\n\nOn 8 May 2017 17:34, \"Jane\" <jane@example.com> wrote:"},
    {"never-empty-signature-only", "On 08/05/2017 17:34, Jane wrote:\n> q\n\n-- \nJohn\n", "John",
     "On 08/05/2017 17:34, Jane wrote:\n> q\n\n-- "},
    {"never-empty-device-signature", "Sent from my iPhone\n\n> On x, J <j@x.com> wrote:\n> q\n",
     "Sent from my iPhone", "> On x, J <j@x.com> wrote:\n> q"},
    {"never-empty-only-markers", "-----\n--\n\u1427\n> q\n", "", "-----\n--\n\u1427\n> q"},
    /* Delimiter lines. */
    {"delimiter-nothing-below", "Ok.\n\n=====\n", "Ok.", "====="},
    {"delimiter-signature-below", "Ok.\n___\nJane\nhttps://x.example\n", "Ok.",
     "___\nJane\nhttps://x.example"},
    {"delimiter-prose-below-kept", "Ok.\n***\nMore text here.\n", "Ok.\n***\nMore text here.", ""},
    {"delimiter-in-sentence-kept", "This is not a ---------- delimiter.\n",
     "This is not a ---------- delimiter.", ""},
    {"tracking-mark", "Ok.\n\u1427\nAnything\n", "Ok.", "\u1427\nAnything"},
    {"separators-after-block", "Ok.\n\n-----\nFrom: J\nSent: Sat\nTo: Me\nSubject: R\n\nold\n",
     "Ok.", "-----\nFrom: J\nSent: Sat\nTo: Me\nSubject: R\n\nold"},
    {"dashdash-contact-block", "Ok.\n--\nBest,\nJ\nACME\nBerlin\nGermany\nTel: +49 30 123\n", "Ok.",
     "--\nBest,\nJ\nACME\nBerlin\nGermany\nTel: +49 30 123"},
    /* Signatures stacked. */
    {"stacked-device-signatures",
     "Ok.\n\nSent from my iPhone\n<<sent by galaxy>>\n(Sent from mobile device)\n從我的 iPhone "
     "傳送\n",
     "Ok.",
     "Sent from my iPhone\n<<sent by galaxy>>\n(Sent from mobile device)\n從我的 iPhone 傳送"},
    /* Headers. */
    {"wrapped-close-angle",
     "Gut.\n\nAm 21.11.2026 um 15:12 schrieb \"Jana\" <jana@example.de\n>:\n> Frage\n", "Gut.",
     "Am 21.11.2026 um 15:12 schrieb \"Jana\" <jana@example.de\n>:\n> Frage"},
    {"wrapped-mailto-four-lines",
     "Yes.\n\nOn Tue, Dec 22, 2015 at 2:05 PM,\nJane "
     "Doe\n<jane@example.com\n<mailto:jane@example.com>> "
     "wrote:\n> q\n",
     "Yes.",
     "On Tue, Dec 22, 2015 at 2:05 PM,\nJane Doe\n<jane@example.com\n<mailto:jane@example.com>> "
     "wrote:\n> q"},
    {"long-wrap-never-swallows-the-reply",
     "Ok.\n2 more things, Monday at 10:00.\nRegards,\nJane\nOn Tue, Dec 22, 2015 at 2:05 PM, Bob "
     "<bob@x.com> wrote:\n> q\n",
     "Ok.\n2 more things, Monday at 10:00.\nRegards,\nJane",
     "On Tue, Dec 22, 2015 at 2:05 PM, Bob <bob@x.com> wrote:\n> q"},
    {"sent-from-my-desk-kept",
     "Here is another email\n\nSent from my desk, is much easier then my "
     "mobile phone.\n",
     "Here is another email\n\nSent from my desk, is much easier then my mobile phone.", ""},
    {"wrote-after-bracket",
     "Yes.\n\nOn Tue, Apr 29, 2014 at 4:22 PM, Dev <dev@example.com>wrote:\n> q\n", "Yes.",
     "On Tue, Apr 29, 2014 at 4:22 PM, Dev <dev@example.com>wrote:\n> q"},
    {"one-is-not-on", "Thanks.\n\nOne outstanding question I had:\n\nLocally, it fails at 10:30.\n",
     "Thanks.\n\nOne outstanding question I had:\n\nLocally, it fails at 10:30.", ""},
    {"greedy-on",
     "On your remote host you can run:\n\n  telnet 127.0.0.1 52698\n\nOn 9 Jan 2014, at 2:47, "
     "George wrote:\n\n> I am having an odd issue\n",
     "On your remote host you can run:\n\n  telnet 127.0.0.1 52698",
     "On 9 Jan 2014, at 2:47, George wrote:\n\n> I am having an odd issue"},
    {"quoted-gt-after-plain-line-kept", "See:\n> the docs\nfor details.\n",
     "See:\n> the docs\nfor details.", ""},
    {"windows-mail-direction-marks",
     "Ok.\n\nFrom: J\nSent: \u200eMonday\u200e, \u200eMarch\u200e \u200e14\u200e, "
     "\u200e2016 \u200e12\u200e:\u200e00\nTo: Me\n\nold\n",
     "Ok.",
     "From: J\nSent: \u200eMonday\u200e, \u200eMarch\u200e \u200e14\u200e, \u200e2016 "
     "\u200e12\u200e:\u200e00\nTo: Me\n\nold"},
    {"windows-mail-block",
     "Ok.\n\nFrom: J\nSent: Saturday, 21 November 2026 15:12\nTo: Me\n\nold\n", "Ok.",
     "From: J\nSent: Saturday, 21 November 2026 15:12\nTo: Me\n\nold"},
    {"mobile-sig-long-line-kept",
     "Sent from my iPhone, which I dropped in the lake yesterday, so this reply is late, sorry "
     "about that, truly.\n",
     "Sent from my iPhone, which I dropped in the lake yesterday, so this reply is late, sorry "
     "about that, truly.",
     ""},
};

static const Case html_cases[] = {
    {"html-empty", "", "", ""},
    {"html-blocks", "<div>a</div><div>b</div><p>c</p>x<br>y", "a\nb\n\nc\n\nx\ny", ""},
    {"html-whitespace", "<div>  a \n  b\t c </div>", "a b c", ""},
    {"html-entities", "<p>&lt;&amp;&gt; &quot;&#39;&#x263A;&eacute;&nbsp;&nbsp;x &bogus; &amp</p>",
     "<&> \"'☺é  x &bogus; &", ""},
    {"html-lists", "<ul><li>one<li>two</ul><ol><li>first</li><li>second</li></ol>",
     "- one\n- two\n1. first\n2. second", ""},
    {"html-nested-list", "<ul><li>a<ul><li>b</li></ul></li></ul>", "- a\n  - b", ""},
    {"html-link", "<a href=\"https://example.com/x?a=1&amp;b=2\">the doc</a>",
     "the doc <https://example.com/x?a=1&b=2>", ""},
    {"html-link-same", "<a href=\"https://example.com/\">https://example.com/</a>",
     "https://example.com/", ""},
    {"html-mailto", "<a href=\"mailto:j@x.com\">j@x.com</a>", "j@x.com", ""},
    {"html-script-style", "<head><title>T</title><style>p{}</style></head><script>x<y</script>ok",
     "ok", ""},
    {"html-comment", "a<!-- <div>hidden</div> -->b", "ab", ""},
    {"html-pre", "<pre>  x\n    y</pre>", "  x\n    y", ""},
    {"html-blockquote-plain", "<p>see</p><blockquote>cited</blockquote><p>after</p>",
     "see\n\n> cited\n\nafter", ""},
    {"html-gmail",
     "<div dir=\"ltr\">Thanks</div><br><div class=\"gmail_quote\"><div class=\"gmail_attr\">On x "
     "wrote:<br></div><blockquote class=\"gmail_quote\">q</blockquote></div>",
     "Thanks", "On x wrote:\n> q"},
    {"html-gmail-signature", "<div>Hi</div><div class=\"gmail_signature\">-- <br>Me</div>", "Hi",
     "--\nMe"},
    {"html-outlook-web",
     "<div>Done</div><div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> "
     "J</div><div>old</div>",
     "Done", "From: J\nold"},
    {"html-outlook-border",
     "<div class=WordSection1><p class=MsoNormal>Done<o:p></o:p></p><p "
     "class=MsoNormal><o:p>&nbsp;</o:p></p><div style='border:none;border-top:solid #E1E1E1 "
     "1.0pt'><p class=MsoNormal><b>From:</b> J</p></div><p class=MsoNormal>old</p></div>",
     "Done", "From: J\nold"},
    {"html-apple-cite",
     "Yes<div><br><blockquote type=\"cite\"><div>On x wrote:</div>q</blockquote></div>", "Yes",
     "> On x wrote:\n> q"},
    {"html-thunderbird",
     "<p>Yes</p><div class=\"moz-signature\">-- <br>Me</div><div class=\"moz-cite-prefix\">On x "
     "wrote:<br></div><blockquote type=\"cite\">q</blockquote>",
     "Yes", "--\nMe\nOn x wrote:\n> q"},
    {"html-yahoo",
     "<div>Yes</div><div id=\"yahoo_quoted_123\" class=\"yahoo_quoted\">On x "
     "wrote:<div>q</div></div>",
     "Yes", "On x wrote:\nq"},
    {"html-proton",
     "<div>Yes</div><div class=\"protonmail_quote\">------- Original Message -------<br>q</div>",
     "Yes", "------- Original Message -------\nq"},
    {"html-zimbra", "<div>Yes</div><div data-marker=\"__QUOTED_TEXT__\">q</div>", "Yes", "q"},
    {"html-exchange", "<div>Yes</div><div class=\"messageBodySection\">q</div>", "Yes", "q"},
    {"html-interleaved",
     "<div>Hi</div><blockquote type=\"cite\">q1</blockquote><div>a1</div><blockquote "
     "type=\"cite\">q2</blockquote>",
     "Hi\n> q1\na1", "> q2"},
    {"html-forward-kept",
     "<div class=\"gmail_quote\">---------- Forwarded message ---------<br>From: "
     "J<br><br>Report</div>",
     "---------- Forwarded message ---------\nFrom: J\n\nReport", ""},
    {"html-outlook-2003",
     "<div>Ok</div><div class=OutlookMessageHeader lang=en-us><hr tabindex=-1><b>From:</b> "
     "J</div><div>old</div>",
     "Ok", "From: J\nold"},
    {"html-outlook-mac",
     "<div>Ok</div><span id=\"OLK_SRC_BODY_SECTION\"><b>From:</b> J<br>old</span>", "Ok",
     "From: J\nold"},
    {"html-owa-signature",
     "<div>Ok</div><div id=\"Signature\"><div>Jane Doe</div><div>ACME</div></div>", "Ok",
     "Jane Doe\nACME"},
    {"html-signature-in-middle-kept",
     "<div>Ok</div><div class=\"gmail_signature\">Jane</div><div>P.S. more</div>",
     "Ok\nJane\nP.S. more", ""},
    {"html-hotmail", "<div>Ok</div><hr id=\"stopSpelling\">Date: Sat<br>old", "Ok",
     "Date: Sat\nold"},
    {"html-unclosed", "<div><b>bold <i>both</div>after", "bold both\nafter", ""},
    {"html-broken-tag", "a < b and c<d", "a < b and c", ""},
    {"html-numeric-invalid", "&#0;&#xD800;&#99999999;", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", ""},
};

typedef struct {
    const char *label;
    const char *line;
    gboolean want;
} HeaderCase;

/* Quote headers as the clients of each language write them, and lines
 * that only look like one. */
static const HeaderCase header_cases[] = {
    {"en-gmail", "On Sat, Nov 21, 2026 at 3:12 PM Jane Doe <jane@example.com> wrote:", TRUE},
    {"en-apple", "On Nov 21, 2026, at 15:12, Jane Doe <jane@example.com> wrote:", TRUE},
    {"en-thunderbird", "On 11/21/26 15:12, Jane Doe wrote:", TRUE},
    {"en-bare-address", "Jane Doe <jane@example.com> wrote:", TRUE},
    {"de-gmail", "Am Sa., 21. Nov. 2026 um 15:12 Uhr schrieb Jana <jana@example.de>:", TRUE},
    {"de-yahoo",
     "Am Samstag, 21. November 2026, 15:12:45 MEZ hat Jana <jana@example.de> Folgendes "
     "geschrieben:",
     TRUE},
    {"fr-nbsp", "Le sam. 21 nov. 2026 à 15:12, Jeanne <jeanne@example.fr> a écrit\u00a0:", TRUE},
    {"fr-narrow-nbsp", "Le 21/11/2026 à 15:12, Jeanne a écrit\u202f:", TRUE},
    {"es-gmail", "El sáb, 21 nov 2026 a las 15:12, Juana (<juana@example.es>) escribió:", TRUE},
    {"pt-gmail", "Em sáb., 21 de nov. de 2026 às 15:12, Joana <joana@example.pt> escreveu:", TRUE},
    {"it-gmail",
     "Il giorno sab 21 nov 2026 alle ore 15:12 Giovanna <g@example.it> ha scritto:", TRUE},
    {"nl-gmail", "Op za 21 nov 2026 om 15:12 schreef Johanna <johanna@example.nl>:", TRUE},
    {"nl-apple",
     "Op 21 nov 2026 om 15:12 heeft Johanna <j@example.nl> het volgende geschreven:", TRUE},
    {"sv-gmail", "Den lör 21 nov. 2026 kl 15:12 skrev Anna <anna@example.se>:", TRUE},
    {"no-gmail", "lør. 21. nov. 2026 kl. 15:12 skrev Kari <kari@example.no>:", TRUE},
    {"da-gmail", "Den lør. 21. nov. 2026 kl. 15.12 skrev Mette <mette@example.dk>:", TRUE},
    {"pl-gmail", "sob., 21 lis 2026 o 15:12 Anna <anna@example.pl> napisał(a):", TRUE},
    {"pl-apple",
     "Wiadomość napisana przez Anna <anna@example.pl> w dniu 21.11.2026, o godz. 15:12:", TRUE},
    {"ru-gmail", "сб, 21 нояб. 2026 г. в 15:12, Мария <maria@example.ru>:", TRUE},
    {"ru-thunderbird", "21.11.2026 15:12, Мария Иванова пишет:", TRUE},
    {"uk-gmail", "сб, 21 лист. 2026 р. о 15:12 Олена <olena@example.ua> пише:", TRUE},
    {"zh-gmail", "王芳 <fang@example.cn> 于2026年11月21日周六 15:12写道：", TRUE},
    {"zh-tw-gmail", "王芳 <fang@example.tw> 於 2026年11月21日 週六 下午3:12寫道：", TRUE},
    {"ja-gmail", "2026年11月21日(土) 15:12 山田花子 <hanako@example.jp>:", TRUE},
    {"ja-apple", "2026/11/21 15:12、山田花子 <hanako@example.jp>のメール:", TRUE},
    {"ko-gmail", "2026년 11월 21일 (토) 오후 3:12, 김지은 <jieun@example.kr>님이 작성:", TRUE},
    {"ko-apple", "2026. 11. 21. 오후 3:12, 김지은 <jieun@example.kr> 작성:", TRUE},
    {"ko-thunderbird", "2026-11-21 오후 3:12에 김지은 이(가) 쓴 글:", TRUE},
    {"trap-on-sentence", "On second thought, let's wait.", FALSE},
    {"trap-on-colon", "On Monday at 3:00 we meet:", FALSE},
    {"trap-in-2020-wrote", "In 2020 he wrote:", FALSE},
    {"trap-url", "On 21 Nov 2026 see https://example.com/who-wrote:", FALSE},
    {"trap-url-query", "On 21 Nov 2026 see https://example.com/?by=wrote:", FALSE},
    {"trap-no-date", "On the wiki Jane wrote:", FALSE},
    {"trap-address-no-time", "Please write to Jane <jane@example.com>:", FALSE},
    {"trap-de-sentence", "Am Montag schrieb er uns:", FALSE},
    {"trap-address-time-no-year", "At 10:30 send it to Jane <jane@example.com>:", FALSE},
    {"ru-mailru", "Суббота, 21 ноября 2026, 15:12 +03:00 от Мария <maria@example.ru>:", TRUE},
    {"ru-yandex", "21.11.2026, 15:12, \"Мария Иванова\" <maria@example.ru>:", TRUE},
    /* Issue 19 forms. */
    {"en-gmail-iso", "2016-03-03 17:21 GMT+01:00 Jane Doe <jane@example.com>:", TRUE},
    {"en-gmail-old", "2013/7/20 Jane Doe via Example <notifications@example.com>", TRUE},
    {"ja-gmail-old-colon", "2013/7/20 山田花子 <hanako@example.jp>:", TRUE},
    {"en-zoho", "---- On Tue, 22 Dec 2015 14:05:10 +0100 Jane Doe <jane@example.com> wrote ----",
     TRUE},
    {"de-zoho", "---- Am Di, 22 Dez 2015 14:05:10 +0100 schrieb Jana <jana@example.de> ----", TRUE},
    {"fr-zoho", "---- Le mar., 22 déc. 2015 14:05:10 +0100 Jeanne <j@example.fr> a écrit ----",
     TRUE},
    {"en-emphasis", "*On Tue, Dec 22, 2015 at 2:05 PM, Jane <jane@example.com> wrote:*", TRUE},
    {"ru-date-first", "понедельник, 6 октября 2014 г. пользователь Jane Doe написал:", TRUE},
    {"uk-date-first", "понеділок, 6 жовтня 2014 р. користувач Олена написав:", TRUE},
    {"pl-date-first", "poniedziałek, 6 października 2014 użytkownik Anna Kowalska napisał:", TRUE},
    {"de-weekday-first", "Montag, 6. Oktober 2014 12:00 schrieb Jana <jana@example.de>:", TRUE},
    {"trap-date-then-link", "2013/7/20 was the release, see <https://example.com/notes>", FALSE},
    {"trap-date-address-mid", "2013/7/20 mail jane <jane@example.com> about it", FALSE},
    {"trap-dashes-sentence", "---- the build from 2015 is what Jane wrote ----", FALSE},
    {"trap-weekday-abbrev-word", "Do 2 things in 2015 and nobody wrote:", FALSE},
};

typedef struct {
    const char *label;
    const char *line;
    int want; /* 1 device signature, 2 delimiter rule, 3 tracking mark, 0 neither */
} SigCase;

/* Device signatures, delimiters and lines that only look like them. */
static const SigCase sig_cases[] = {
    {"sent-from-my", "Sent from my iPhone", 1},
    {"sent-from-app", "Sent from Mailbox for iPad", 1},
    {"parenthesised", "(Sent from mobile device)", 1},
    {"double-angles", "<<sent by galaxy>>", 1},
    {"outlook-link", "Get Outlook for iOS<https://aka.ms/o0ukef>", 1},
    {"fr", "Envoyé depuis mon iPhone", 1},
    {"de-mobilgeraet", "Von meinem Mobilgerät gesendet", 1},
    {"de-gmx", "Diese Nachricht wurde von meinem Android-Mobiltelefon mit GMX Mail gesendet.", 1},
    {"zh-tw", "從我的 iPhone 傳送", 1},
    {"zh-cn-huawei", "发自我的华为手机", 1},
    {"nl-blackberry", "Verzonden met BlackBerry Work", 1},
    {"nl-vanuit", "Verzonden vanuit Outlook voor Android", 1},
    {"pt-br", "Enviado de meu iPhone", 1},
    {"ru-mailru", "Отправлено из мобильной Почты Mail.ru", 1},
    {"uk", "Відправлено з мого Samsung Galaxy", 1},
    {"ja", "Android のモバイル デバイスから送信されました", 1},
    {"ko", "Galaxy 스마트폰에서 보냈습니다.", 1},
    {"pl", "Wysłano z aplikacji Outlook dla systemu Android", 1},
    {"trap-long-sentence",
     "Sent from the office yesterday, with every attachment you asked for in May", 0},
    {"trap-from-my-side", "From my side it is fine.", 0},
    {"trap-sent-from-my-desk", "Sent from my desk, is much easier then my mobile phone.", 0},
    {"verizon-comma", "Sent from my Verizon, Samsung Galaxy smartphone", 1},
    {"att-long-name", "Sent via the Samsung Galaxy S7, an AT&T 4G LTE smartphone", 1},
    {"trap-sent-from-the-office-is", "Sent from the office, which is closed now", 0},
    {"iphone-excuse-typos", "Sent from my iPhone. Please excuse typos.", 1},
    {"windows-mail-link",
     "Sent from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for Windows", 1},
    {"dashes", "-----", 2},
    {"underscores", "________________________________", 2},
    {"equals", "====", 2},
    {"stars-spaced", "* * *", 2},
    {"mixed", "-=-=-=-", 2},
    {"tildes-hashes-pluses", "~~~###+++", 2},
    {"em-dashes", "———", 2},
    {"mark", "\u1427", 3},
    {"trap-two-dashes", "--", 0},
    {"trap-in-sentence", "This is not a ---------- delimiter.", 0},
    {"trap-arrow", "--->", 0},
};

/* test_sig_case - one row of the signature and delimiter table. */
static void
test_sig_case(gconstpointer data)
{
    const SigCase *c = data;
    g_autoptr(GString) norm = g_string_new(NULL);
    int got;

    trim_lang_normalize(norm, c->line, strlen(c->line));
    got = trim_lang_is_mobile_signature(norm->str, norm->len) ? 1 : 0;
    if (got == 0) {
        TrimDelim d = trim_lang_delimiter(norm->str, norm->len);

        got = d == TRIM_DELIM_RULE ? 2 : d == TRIM_DELIM_MARK ? 3 : 0;
    }
    if (got != c->want) {
        g_test_message("%s: [%s] got %d, want %d", c->label, c->line, got, c->want);
        g_test_fail();
    }
}

typedef struct {
    const char *label;
    const char *html;
    const char *want_text;
    const char *want_keep; /* one digit per line of the text */
    const char *want_reply;
} MarkedCase;

/* An unmarked <blockquote> is the author's inline quote: its lines are
 * marked, and trim_reply_marked() keeps them unless a header introduces it. */
static const MarkedCase marked_cases[] = {
    {"unmarked-at-end", "<p>The spec says:</p><blockquote>Stored once.</blockquote>",
     "The spec says:\n\n> Stored once.", "001", "The spec says:\n\n> Stored once."},
    {"unmarked-two-lines", "<div>See:</div><blockquote><div>a</div><div>b</div></blockquote>",
     "See:\n> a\n> b", "011", "See:\n> a\n> b"},
    {"cite-is-not-marked", "<div>Yes</div><blockquote type=\"cite\">q</blockquote>", "Yes", "0",
     "Yes"},
    {"after-a-header-cut",
     "<div>Ok</div><div>21.11.2026, 15:12, \"Jana\" &lt;jana@example.de&gt;:</div>"
     "<blockquote>q</blockquote>",
     "Ok\n21.11.2026, 15:12, \"Jana\" <jana@example.de>:\n> q", "001", "Ok"},
    {"nested-one-range", "<blockquote>a<blockquote>b</blockquote>c</blockquote>", "> a\n> > b\n> c",
     "111", "> a\n> > b\n> c"},
    {"inside-gmail-quote-not-marked",
     "<div>Hi</div><div class=\"gmail_quote\">On x wrote:<blockquote>q</blockquote></div>", "Hi",
     "0", "Hi"},
};

/* test_marked_case - one row of the marked-lines table. */
static void
test_marked_case(gconstpointer data)
{
    const MarkedCase *c = data;
    g_autoptr(GByteArray) keep = NULL;
    g_autoptr(GString) flags = g_string_new(NULL);
    g_autofree char *quoted = NULL;
    g_autofree char *text = html_to_text_marked(c->html, strlen(c->html), &quoted, &keep);
    g_autofree char *reply = NULL;
    g_autofree char *cut = NULL;

    for (guint i = 0; i < keep->len; i++)
        g_string_append_c(flags, keep->data[i] ? '1' : '0');
    trim_reply_marked(text, keep->data, keep->len, &reply, &cut);
    if (strcmp(text, c->want_text) != 0 || strcmp(flags->str, c->want_keep) != 0 ||
        strcmp(reply, c->want_reply) != 0) {
        g_test_message("%s:\n got text [%s] keep %s reply [%s]\n want text [%s] keep %s reply [%s]",
                       c->label, text, flags->str, reply, c->want_text, c->want_keep,
                       c->want_reply);
        g_test_fail();
    }
}

/* test_header_case - one row of the quote header table. */
static void
test_header_case(gconstpointer data)
{
    const HeaderCase *c = data;
    g_autoptr(GString) norm = g_string_new(NULL);
    gboolean got;

    trim_lang_normalize(norm, c->line, strlen(c->line));
    got = trim_lang_is_quote_header(norm->str, norm->len);
    if (got != c->want) {
        g_test_message("%s: [%s] got %s, want %s", c->label, c->line, got ? "header" : "text",
                       c->want ? "header" : "text");
        g_test_fail();
    }
}

/* test_trim_case - one row of the trim_reply() table. */
static void
test_trim_case(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *reply = NULL;
    g_autofree char *quoted = NULL;

    trim_reply(c->input, &reply, &quoted);
    if (strcmp(reply, c->want_reply) != 0 || strcmp(quoted, c->want_quoted) != 0) {
        g_test_message(
            "%s:\n got reply  [%s]\n want reply [%s]\n got quoted  [%s]\n want quoted [%s]",
            c->label, reply, c->want_reply, quoted, c->want_quoted);
        g_test_fail();
    }
}

/* test_html_case - one row of the html_to_text() table. */
static void
test_html_case(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *quoted = NULL;
    g_autofree char *text = html_to_text(c->input, strlen(c->input), &quoted);
    g_autofree char *all = html_to_text(c->input, strlen(c->input), NULL);

    if (strcmp(text, c->want_reply) != 0 || strcmp(quoted, c->want_quoted) != 0) {
        g_test_message(
            "%s:\n got text  [%s]\n want text [%s]\n got quoted  [%s]\n want quoted [%s]", c->label,
            text, c->want_reply, quoted, c->want_quoted);
        g_test_fail();
    }
    if (strlen(all) < strlen(text)) {
        g_test_message("%s: text without quote split is shorter: [%s]", c->label, all);
        g_test_fail();
    }
}

/* test_null - NULL input is an empty reply, never a crash. */
static void
test_null(void)
{
    g_autofree char *reply = NULL;
    g_autofree char *quoted = NULL;
    g_autofree char *text = NULL;
    g_autofree char *hq = NULL;

    trim_reply(NULL, &reply, &quoted);
    g_assert_cmpstr(reply, ==, "");
    g_assert_cmpstr(quoted, ==, "");
    text = html_to_text(NULL, 0, &hq);
    g_assert_cmpstr(text, ==, "");
    g_assert_cmpstr(hq, ==, "");
}

/* Pieces that random inputs are built of: markup, quote markers, header
 * words, fences, entities, NBSP and broken UTF-8. */
static const char *const fuzz_pieces[] = {
    "<div>",
    "</div>",
    "<br>",
    "<blockquote type=\"cite\">",
    "</blockquote>",
    "<a href=\"https://x/",
    "\">",
    "</a>",
    "<ul><li>",
    "<ol>",
    "</li>",
    "<pre>",
    "</pre>",
    "<script>",
    "</script",
    "<!--",
    "-->",
    "<div class=\"gmail_quote\">",
    "<div id=\"appendonsend\">",
    "<p class=MsoNormal>",
    "&amp;",
    "&#x",
    "&#",
    "&nbsp;",
    "&",
    "<",
    ">",
    "> ",
    ">>",
    "\n",
    "\r\n",
    "\n\n",
    "On ",
    "2026",
    "3:12",
    " wrote:",
    "<a@b.c>",
    ":",
    "From: a\n",
    "Sent: b\n",
    "To: c\n",
    "Subject: d\n",
    "```\n",
    "-- \n",
    "--\n",
    "Sent from my iPhone\n",
    "-----Original Message-----\n",
    "____________\n",
    "---------- Forwarded message ---------\n",
    "\xC2\xA0",
    "\xEF\xBC\x9A",
    "\xE3\x80",
    "\xFF",
    "작성",
    "写道",
    "text ",
    "\t",
    " ",
    /* issue 19's forms */
    "\u1427\n",
    "\n>:\n",
    "<mailto:a@b.c>>",
    "<a@b.c\n",
    "---- ",
    " ----\n",
    "2013/7/20 ",
    "*-----",
    "=====\n",
    "<blockquote>",
    "Sent from ",
    "(Sent from mobile device)\n",
    "пользователь ",
    "понедельник, ",
    "\u200e",
    "Best regards,\n",
    "https://x.example\n",
    "confidential ",
    "Sent: 2026\n",
};

/* test_fuzz - random inputs from the pieces: no crash, always strings. */
static void
test_fuzz(void)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(20261121);
    guint round;

    for (round = 0; round < 3000; round++) {
        g_autoptr(GString) in = g_string_new(NULL);
        guint pieces = (guint)g_rand_int_range(rand, 0, 80);
        guint i;
        g_autofree char *reply = NULL;
        g_autofree char *quoted = NULL;
        g_autofree char *hq = NULL;
        g_autofree char *text = NULL;

        for (i = 0; i < pieces; i++)
            g_string_append(in, fuzz_pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(fuzz_pieces))]);
        trim_reply(in->str, &reply, &quoted);
        g_assert_nonnull(reply);
        g_assert_nonnull(quoted);
        g_assert_cmpuint(strlen(reply), <=, in->len);
        text = html_to_text(in->str, in->len, &hq);
        g_assert_nonnull(text);
        g_assert_nonnull(hq);
    }
}

int
main(int argc, char **argv)
{
    gsize i;

    g_test_init(&argc, &argv, NULL);
    for (i = 0; i < G_N_ELEMENTS(trim_cases); i++) {
        g_autofree char *path = g_strdup_printf("/trim/%s", trim_cases[i].label);

        g_test_add_data_func(path, &trim_cases[i], test_trim_case);
    }
    for (i = 0; i < G_N_ELEMENTS(html_cases); i++) {
        g_autofree char *path = g_strdup_printf("/html/%s", html_cases[i].label);

        g_test_add_data_func(path, &html_cases[i], test_html_case);
    }
    for (i = 0; i < G_N_ELEMENTS(header_cases); i++) {
        g_autofree char *path = g_strdup_printf("/header/%s", header_cases[i].label);

        g_test_add_data_func(path, &header_cases[i], test_header_case);
    }
    for (i = 0; i < G_N_ELEMENTS(sig_cases); i++) {
        g_autofree char *path = g_strdup_printf("/signature/%s", sig_cases[i].label);

        g_test_add_data_func(path, &sig_cases[i], test_sig_case);
    }
    for (i = 0; i < G_N_ELEMENTS(marked_cases); i++) {
        g_autofree char *path = g_strdup_printf("/marked/%s", marked_cases[i].label);

        g_test_add_data_func(path, &marked_cases[i], test_marked_case);
    }
    g_test_add_func("/trim/null", test_null);
    g_test_add_func("/trim/fuzz", test_fuzz);
    return g_test_run();
}
