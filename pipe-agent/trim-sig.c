/*
 * trim-sig.c - the signature tables behind reply trimming: device and app
 * signatures ("Sent from my iPhone", "Von meinem iPhone gesendet",
 * "iPhoneから送信", "<<sent by galaxy>>"), closing phrases ("Best regards",
 * "Mit freundlichen Grüßen", "С уважением"), contact lines (links, mail
 * addresses, telephone numbers) and delimiter lines ("-----", "_____",
 * "*****", "=====", Gmail's tracking mark "ᐧ"), in the sixteen languages of
 * trim-lang.c.
 *
 * Device signatures are written by the clients and apps themselves, so the
 * tables follow the phrase and its grammar per language ("Sent from|with|
 * via|by <app>", "Von meinem <device> gesendet", "<device>から送信") with a
 * bounded place for the device or app name, rather than every name. Each
 * matcher looks at one short normalized line, in time linear in its length.
 */
#include <string.h>

#include "trim-private.h"

/* A device or app signature: a prefix, a suffix when the name sits in the
 * middle ("Von meinem iPhone gesendet"), and the bytes the name may take. */
typedef struct {
    const char *prefix; /* "" when the phrase ends the line ("iPhoneから送信") */
    const char *suffix; /* NULL: the name ends the line */
    guint8 name_max;
} MobileSig;

static const MobileSig mobile_sigs[] = {
    /* English */
    {"Sent from my ", NULL, 70},
    {"Sent from ", NULL, 50},
    {"Sent via ", NULL, 50},
    {"Sent with ", NULL, 60},
    {"Sent by ", NULL, 40},
    {"Sent using ", NULL, 50},
    {"Sent on my ", NULL, 50},
    {"Sent on the go", NULL, 50},
    {"Sent from mobile", NULL, 40},
    {"Get Outlook for ", NULL, 30},
    {"From my iPhone", NULL, 20},
    {"From my iPad", NULL, 20},
    {"From my Android", NULL, 20},
    {"From my mobile", NULL, 20},
    {"From my phone", NULL, 20},
    {"From my smartphone", NULL, 20},
    {"From my Galaxy", NULL, 20},
    {"From my Samsung", NULL, 20},
    {"From my BlackBerry", NULL, 20},
    {"", " from mobile device", 30},
    {"", " from my mobile device", 30},
    {"", " from my mobile", 30},
    {"", " from my phone", 30},
    {"", " from my smartphone", 30},
    /* German */
    {"Von meinem ", "gesendet", 60},
    {"Gesendet von ", NULL, 60},
    {"Gesendet vom ", NULL, 50},
    {"Gesendet mit ", NULL, 70},
    {"Gesendet über ", NULL, 50},
    {"Diese Nachricht wurde von ", "gesendet", 80},
    {"Diese Nachricht wurde mit ", "gesendet", 80},
    {"Outlook für ", NULL, 40},
    /* French */
    {"Envoyé de mon ", NULL, 70},
    {"Envoyé depuis ", NULL, 60},
    {"Envoyé avec ", NULL, 70},
    {"Envoyé à partir de ", NULL, 60},
    {"Envoyé à partir d'", NULL, 60},
    {"Envoyé de ", NULL, 50},
    {"Télécharger Outlook pour ", NULL, 30},
    {"Obtenir Outlook pour ", NULL, 30},
    /* Spanish */
    {"Enviado desde ", NULL, 60},
    {"Enviado con ", NULL, 70},
    {"Enviado mediante ", NULL, 50},
    {"Obtener Outlook para ", NULL, 30},
    {"Descargar Outlook para ", NULL, 30},
    /* Portuguese */
    {"Enviado do ", NULL, 60},
    {"Enviado de ", NULL, 60},
    {"Enviado com ", NULL, 70},
    {"Enviado a partir do ", NULL, 60},
    {"Enviado a partir de ", NULL, 60},
    {"Enviado pelo ", NULL, 50},
    {"Obter o Outlook para ", NULL, 30},
    {"Baixe o Outlook para ", NULL, 30},
    /* Italian */
    {"Inviato da ", NULL, 60},
    {"Inviato dal ", NULL, 60},
    {"Inviato con ", NULL, 70},
    {"Inviato tramite ", NULL, 50},
    {"Scarica Outlook per ", NULL, 30},
    {"Ottieni Outlook per ", NULL, 30},
    /* Dutch */
    {"Verzonden vanaf ", NULL, 60},
    {"Verstuurd vanaf ", NULL, 60},
    {"Verzonden vanuit ", NULL, 60},
    {"Verstuurd vanuit ", NULL, 60},
    {"Verzonden met ", NULL, 60},
    {"Verstuurd met ", NULL, 60},
    {"Verzonden via ", NULL, 50},
    {"Download Outlook voor ", NULL, 30},
    {"Outlook voor ", "downloaden", 30},
    /* Swedish, Norwegian, Danish */
    {"Skickat från ", NULL, 60},
    {"Skickat med ", NULL, 60},
    {"Skickat via ", NULL, 50},
    {"Skickades från ", NULL, 60},
    {"Hämta Outlook för ", NULL, 30},
    {"Sendt fra ", NULL, 60},
    {"Sendt med ", NULL, 60},
    {"Sendt via ", NULL, 50},
    {"Få Outlook for ", NULL, 30},
    {"Hent Outlook til ", NULL, 30},
    {"Hent Outlook for ", NULL, 30},
    /* Polish */
    {"Wysłane z ", NULL, 60},
    {"Wysłano z ", NULL, 60},
    {"Wysłane ze ", NULL, 60},
    {"Wysłano ze ", NULL, 60},
    {"Wysłane za pomocą ", NULL, 60},
    {"Wysłano za pomocą ", NULL, 60},
    {"Pobierz aplikację Outlook", NULL, 40},
    {"Pobierz Outlook dla ", NULL, 30},
    /* Russian */
    {"Отправлено с ", NULL, 70},
    {"Отправлено со ", NULL, 70},
    {"Отправлено из ", NULL, 70},
    {"Отправлено через ", NULL, 60},
    {"Получить Outlook для ", NULL, 30},
    /* Ukrainian */
    {"Надіслано з ", NULL, 70},
    {"Надіслано із ", NULL, 70},
    {"Надіслано зі ", NULL, 70},
    {"Відправлено з ", NULL, 70},
    {"Отримати Outlook для ", NULL, 30},
    /* Chinese */
    {"发自", NULL, 40},
    {"發自", NULL, 40},
    {"来自我的", NULL, 40},
    {"從我的", NULL, 40},
    {"从我的", "发送", 40},
    {"透過", "傳送", 40},
    {"傳送自", NULL, 40},
    {"获取 ", "Outlook", 30},
    {"獲取 ", "Outlook", 30},
    {"取得 ", "Outlook", 30},
    {"获取 Outlook", NULL, 30},
    {"取得 Outlook", NULL, 30},
    {"使用 Proton Mail", NULL, 40},
    /* Japanese */
    {"", "から送信", 40},
    {"", "から送信しました", 40},
    {"", "から送信されました", 40},
    {"", "を入手", 40},
    /* Korean */
    {"", "에서 보냄", 40},
    {"", "에서 보냈습니다", 40},
    {"", "에서 발송", 40},
    {"", "Outlook 받기", 30},
    {NULL, NULL, 0},
};

/* Phrases that close a letter before the name: a signature block holds one. */
static const char *const closings[] = {
    /* English */
    "Regards",
    "Best regards",
    "Kind regards",
    "Warm regards",
    "Best wishes",
    "Best",
    "Cheers",
    "Thanks",
    "Thank you",
    "Many thanks",
    "Sincerely",
    "Yours",
    "All the best",
    "Rgds",
    "BR",
    /* German */
    "Mit freundlichen Grüßen",
    "Mit freundlichen Grüssen",
    "Freundliche Grüße",
    "Viele Grüße",
    "Viele Grüsse",
    "Beste Grüße",
    "Liebe Grüße",
    "Herzliche Grüße",
    "Gruß",
    "Grüße",
    "MfG",
    "LG",
    "VG",
    "Danke",
    /* French */
    "Cordialement",
    "Bien cordialement",
    "Bien à vous",
    "Amicalement",
    "Salutations",
    "Merci",
    "Bonne journée",
    /* Spanish, Portuguese */
    "Saludos",
    "Un saludo",
    "Atentamente",
    "Gracias",
    "Un abrazo",
    "Cordialmente",
    "Atenciosamente",
    "Abraços",
    "Abraço",
    "Obrigado",
    "Obrigada",
    "Cumprimentos",
    /* Italian */
    "Cordiali saluti",
    "Distinti saluti",
    "Saluti",
    "Un saluto",
    "Grazie",
    "Buona giornata",
    /* Dutch */
    "Met vriendelijke groet",
    "Met vriendelijke groeten",
    "Vriendelijke groet",
    "Groeten",
    "Groet",
    "Bedankt",
    "Mvg",
    /* Swedish, Norwegian, Danish */
    "Med vänliga hälsningar",
    "Vänliga hälsningar",
    "Hälsningar",
    "Med vennlig hilsen",
    "Vennlig hilsen",
    "Med venlig hilsen",
    "Venlig hilsen",
    "Hilsen",
    "Mvh",
    "Tack",
    "Takk",
    "Tak",
    /* Polish */
    "Pozdrawiam",
    "Serdecznie pozdrawiam",
    "Z poważaniem",
    "Pozdrowienia",
    "Dziękuję",
    /* Russian, Ukrainian */
    "С уважением",
    "С наилучшими пожеланиями",
    "Всего доброго",
    "Спасибо",
    "З повагою",
    "З найкращими побажаннями",
    "Дякую",
    /* Chinese, Japanese, Korean */
    "此致",
    "谢谢",
    "謝謝",
    "祝好",
    "よろしくお願いします",
    "よろしくお願いいたします",
    "宜しくお願いします",
    "以上",
    "감사합니다",
    "고맙습니다",
    NULL,
};

/* Words of the confidentiality notices that companies append below a
 * delimiter line, matched in any ASCII case anywhere in a line. */
static const char *const disclaimer_words[] = {
    "confidential",   "intended recipient",
    "privileged",     "disclaimer",
    "vertraulich",    "Vertraulich",
    "confidentiel",   "Confidentiel",
    "confidencial",   "Confidencial",
    "riservat",       "Riservat",
    "vertrouwelijk",  "Vertrouwelijk",
    "konfidentiell",  "konfidensiell",
    "fortrolig",      "poufn",
    "Poufn",          "конфиденциальн",
    "Конфиденциальн", "конфіденційн",
    "Конфіденційн",   "机密",
    "機密",           "保密",
    "기밀",           NULL,
};

/* Words that open a telephone line: "Tel: +49 30 1234567", "M: ...". */
static const char *const phone_keys[] = {
    "Tel",      "Phone",    "Mobile", "Mob",      "Cell",    "Fax",       "T",
    "M",        "P",        "F",      "Telefon",  "Handy",   "Mobil",     "Tél",
    "Portable", "Teléfono", "Móvil",  "Telefone", "Celular", "Cellulare", "Телефон",
    "Тел",      "Моб",      "電話",   "手机",     "携帯",    "전화",      NULL,
};

/* LOWER - ASCII lower case of a byte. */
#define LOWER(c) ((char)((c) >= 'A' && (c) <= 'Z' ? (c) + ('a' - 'A') : (c)))

/* ci_prefix - does s (len bytes) start with p, ASCII case-insensitively? */
static gboolean
ci_prefix(const char *s, gsize len, const char *p)
{
    gsize plen = strlen(p);

    return plen <= len && g_ascii_strncasecmp(s, p, plen) == 0;
}

/* ci_suffix - does s (len bytes) end with p, ASCII case-insensitively? */
static gboolean
ci_suffix(const char *s, gsize len, const char *p)
{
    gsize plen = strlen(p);

    return plen <= len && g_ascii_strncasecmp(s + len - plen, p, plen) == 0;
}

/* drop_links - copy s without the links that plain-text parts write after
 * a linked word ("Sent from Mail<https://go.microsoft.com/...> for
 * Windows", "Get Outlook for iOS<https://aka.ms/o0ukef>") or at the end of
 * the line: a '<' with a scheme or '@' inside, up to its '>'. */
static gsize
drop_links(const char *s, gsize len, char *out)
{
    gsize o = 0;
    gsize i = 0;

    while (i < len) {
        if (s[i] == '<' && i > 0) {
            const char *gt = memchr(s + i, '>', len - i);
            gboolean after_word = g_ascii_isalnum(s[i - 1]) || (guchar)s[i - 1] >= 0x80;

            /* After a word, or after a space when the link ends the line
             * (HTML made "text <url>"). */
            if (gt != NULL && (after_word || (gsize)(gt - s) + 1 == len) &&
                ((gsize)(gt - s) - i > 6) &&
                (memchr(s + i, ':', (gsize)(gt - s) - i) != NULL ||
                 memchr(s + i, '@', (gsize)(gt - s) - i) != NULL)) {
                i = (gsize)(gt - s) + 1;
                continue;
            }
        }
        out[o++] = s[i++];
    }
    return o;
}

/* strip_wrapping - "(Sent from mobile device)", "<<sent by galaxy>>",
 * "[Sent from my phone]", "-- Sent from my iPhone", "*Sent with Spark*": the
 * brackets, dashes and emphasis around a signature, and the closing dot. */
static void
strip_wrapping(const char **s, gsize *len)
{
    static const char lead[] = "(<[{-*_~ \"'";
    static const char tail[] = ")>]}-*_~ .!\"'";

    while (*len > 0 && strchr(lead, (*s)[0]) != NULL) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && strchr(tail, (*s)[*len - 1]) != NULL)
        (*len)--;
}

/* count_words - words of s, up to max + 1 */
static guint
count_words(const char *s, gsize len, guint max)
{
    guint words = 0;
    gboolean in_word = FALSE;

    for (gsize i = 0; i < len && words <= max; i++) {
        gboolean space = s[i] == ' ';

        if (!space && !in_word)
            words++;
        in_word = !space;
    }
    return words;
}

/* Words of a sentence, which a device or app name does not hold. */
static const char *const sentence_words[] = {
    "is",  "are",   "was",    "were", "will", "would", "have", "has",  "had",
    "can", "could", "should", "ist",  "sind", "war",   "est",  "sont", "es",
    "son", "é",     "è",      "zijn", "är",   "er",    "jest", NULL,
};

/* reads_like_sentence - does the name part hold a verb of a sentence ("Sent
 * from my desk, is much easier than my phone.")? */
static gboolean
reads_like_sentence(const char *s, gsize len)
{
    gsize i = 0;

    while (i < len) {
        gsize j;

        while (i < len && (s[i] == ' ' || s[i] == ','))
            i++;
        for (j = i; j < len && s[j] != ' ' && s[j] != ','; j++)
            ;
        for (gsize w = 0; j > i && sentence_words[w] != NULL; w++)
            if (strlen(sentence_words[w]) == j - i &&
                g_ascii_strncasecmp(s + i, sentence_words[w], j - i) == 0)
                return TRUE;
        i = j;
    }
    return FALSE;
}

/* trim_lang_is_mobile_signature - a whole line like "Sent from my iPhone". */
gboolean
trim_lang_is_mobile_signature(const char *s, gsize len)
{
    const MobileSig *m;
    char text[TRIM_LANG_MAX_LINE];

    if (len > TRIM_LANG_MAX_LINE)
        return FALSE;
    len = drop_links(s, len, text);
    s = text;
    strip_wrapping(&s, &len);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '.'))
        len--;
    if (len < 4 || len > 200 || !(g_ascii_isalpha(s[0]) || (guchar)s[0] >= 0x80))
        return FALSE;
    for (m = mobile_sigs; m->prefix != NULL; m++) {
        gsize pl = strlen(m->prefix);

        if (pl > 0 && LOWER(s[0]) != LOWER(m->prefix[0]))
            continue;
        if (!ci_prefix(s, len, m->prefix))
            continue;
        if (m->suffix == NULL) {
            /* "Sent from my iPhone" names a device; a long sentence is text
             * ("Sent from my desk, is much easier than my phone."). */
            if (len > pl + m->name_max || count_words(s + pl, len - pl, 10) > 10 ||
                reads_like_sentence(s + pl, len - pl))
                continue;
            if (len > pl || m->prefix[pl - 1] != ' ')
                return TRUE;
            continue;
        }
        if (len > pl + strlen(m->suffix) && ci_suffix(s, len, m->suffix) &&
            len <= pl + strlen(m->suffix) + m->name_max)
            return TRUE;
    }
    return FALSE;
}

/* trim_lang_is_closing - "Best regards,", "Viele Grüße", "С уважением,
 * Мария": a closing phrase, then at most a short name. */
gboolean
trim_lang_is_closing(const char *s, gsize len)
{
    gsize i;

    if (len == 0 || len > 80)
        return FALSE;
    for (i = 0; closings[i] != NULL; i++) {
        gsize pl = strlen(closings[i]);
        guchar after;

        if (LOWER(s[0]) != LOWER(closings[i][0]) || !ci_prefix(s, len, closings[i]))
            continue;
        after = pl < len ? (guchar)s[pl] : ' ';
        /* A word of its own ("Best," but not "Bestellung"), and a short rest. */
        if (g_ascii_isalpha(after) || len - pl > 40)
            continue;
        return TRUE;
    }
    return FALSE;
}

/* has_mail_address - "x@y.z" somewhere in s */
static gboolean
has_mail_address(const char *s, gsize len)
{
    const char *at = memchr(s, '@', len);

    return at != NULL && at > s && g_ascii_isalnum(at[-1]) &&
           memchr(at, '.', len - (gsize)(at - s)) != NULL;
}

/* trim_lang_is_contact - a line of a signature's contact block: a link, a
 * mail address, or a telephone number ("+49 30 1234567", "Tel: ..."), with
 * few words around it ("P.S. the notes are at https://..." is a sentence). */
gboolean
trim_lang_is_contact(const char *s, gsize len)
{
    gsize digits = 0;
    gsize i;

    if (len == 0 || len > 160 || count_words(s, len, 5) > 5 || ci_prefix(s, len, "P.S") ||
        ci_prefix(s, len, "PS ") || ci_prefix(s, len, "PS:"))
        return FALSE;
    for (i = 0; i + 3 < len; i++)
        if ((s[i] == 'h' || s[i] == 'H') &&
            (ci_prefix(s + i, len - i, "http://") || ci_prefix(s + i, len - i, "https://")))
            return TRUE;
    if (ci_prefix(s, len, "www.") || has_mail_address(s, len))
        return TRUE;
    for (i = 0; phone_keys[i] != NULL; i++) {
        gsize kl = strlen(phone_keys[i]);

        if (ci_prefix(s, len, phone_keys[i]) && kl < len && strchr(":. ", s[kl]) != NULL) {
            gsize j = kl;

            while (j < len && strchr(":. ", s[j]) != NULL)
                j++;
            if (j < len && (g_ascii_isdigit(s[j]) || s[j] == '+' || s[j] == '('))
                return TRUE;
        }
    }
    /* A line that is mostly a telephone number: 7 or more digits among
     * only "+()-./ " and at most a short label. */
    for (i = 0; i < len; i++) {
        if (g_ascii_isdigit(s[i]))
            digits++;
        else if (strchr("+()-./ ", s[i]) == NULL && i > 12)
            return FALSE;
    }
    return digits >= 7 && len <= 40;
}

/* trim_lang_is_disclaimer - does the line belong to a confidentiality
 * notice ("This e-mail is confidential and intended ...")? */
gboolean
trim_lang_is_disclaimer(const char *s, gsize len)
{
    g_autofree char *lower = NULL;

    if (len == 0 || len > TRIM_LANG_MAX_LINE)
        return FALSE;
    lower = g_ascii_strdown(s, (gssize)len);
    for (gsize i = 0; disclaimer_words[i] != NULL; i++)
        if (strstr(lower, disclaimer_words[i]) != NULL)
            return TRUE;
    return FALSE;
}

/* trim_lang_delimiter - a line made only of '-', '_', '*', '=', '~', '#',
 * '+' (three or more, spaces between allowed; also the long dashes and box
 * lines "—", "―", "─", "━", "═"): TRIM_DELIM_RULE; Gmail's tracking mark
 * "ᐧ" (U+1427) alone: TRIM_DELIM_MARK. */
TrimDelim
trim_lang_delimiter(const char *s, gsize len)
{
    gsize count = 0;
    gsize marks = 0;
    gsize i = 0;

    if (len == 0 || len > TRIM_LANG_MAX_LINE)
        return TRIM_DELIM_NONE;
    while (i < len) {
        const guchar *u = (const guchar *)s + i;

        if (*u == ' ') {
            i++;
        } else if (strchr("-_*=~#+", *u) != NULL && *u != '\0') {
            count++;
            i++;
        } else if (len - i >= 3 && u[0] == 0xE1 && u[1] == 0x90 && u[2] == 0xA7) {
            marks++;
            i += 3;
        } else if (len - i >= 3 && u[0] == 0xE2 &&
                   ((u[1] == 0x80 && (u[2] == 0x94 || u[2] == 0x95)) ||
                    (u[1] == 0x94 && (u[2] == 0x80 || u[2] == 0x81)) ||
                    (u[1] == 0x95 && u[2] == 0x90))) {
            count++;
            i += 3;
        } else {
            return TRIM_DELIM_NONE;
        }
    }
    if (marks > 0 && count == 0)
        return TRIM_DELIM_MARK;
    return count >= 3 && marks == 0 ? TRIM_DELIM_RULE : TRIM_DELIM_NONE;
}
