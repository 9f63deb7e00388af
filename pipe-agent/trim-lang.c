/*
 * trim-lang.c - the language tables behind reply trimming.
 *
 * Quote headers ("On ... wrote:", "Am ... schrieb ...:", "... 작성:"),
 * Outlook header keys (From/Sent/To/Subject and translations), "Original
 * Message" and forward rules, and mobile signatures, in English, German,
 * French, Spanish, Portuguese, Italian, Dutch, Swedish, Norwegian, Danish,
 * Polish, Russian, Ukrainian, Chinese, Japanese and Korean.
 *
 * Each matcher is a hand-written scan over one normalized line of at most a
 * few hundred bytes, so the whole trimmer stays linear in its input.
 */
#include <string.h>

#include "trim-private.h"

/* Verbs that end a quote header. CJK entries need no word boundary. */
typedef struct {
    const char *word;
    gboolean cjk;
} HeaderWord;

static const HeaderWord header_words[] = {
    {"wrote", FALSE},     {"schrieb", FALSE},  {"geschrieben", FALSE}, {"a écrit", FALSE},
    {"écrit", FALSE},     {"escribió", FALSE}, {"escreveu", FALSE},    {"ha scritto", FALSE},
    {"scritto", FALSE},   {"schreef", FALSE},  {"geschreven", FALSE},  {"skrev", FALSE},
    {"napisał", FALSE},   {"napisała", FALSE}, {"napisana", FALSE},    {"pisze", FALSE},
    {"написал", FALSE},   {"написала", FALSE}, {"пишет", FALSE},       {"пише", FALSE},
    {"написав", FALSE},   {"написала", FALSE}, {"写道", TRUE},         {"寫道", TRUE},
    {"書きました", TRUE}, {"のメール", TRUE},  {"작성", TRUE},         {"썼습니다", TRUE},
    {"쓴 글", TRUE},      {"撰写", TRUE},      {"撰寫", TRUE},         {NULL, FALSE},
};

/* Weekdays that open a date-first header ("понедельник, 6 октября 2014 г.
 * пользователь Jane написал:", "Samstag, 21. November 2026 ..."): the full
 * names, and the abbreviations only with their '.' or ',', since a short
 * word alone ("Do", "Ma") opens sentences too. Non-ASCII words are listed
 * in both cases; ASCII is compared without case. */
static const char *const weekdays[] = {
    /* English */
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Mon,",
    "Tue,",
    "Wed,",
    "Thu,",
    "Fri,",
    "Sat,",
    "Sun,",
    /* German */
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonnabend",
    "Sonntag",
    "Mo.",
    "Di.",
    "Mi.",
    "Do.",
    "Fr.",
    "Sa.",
    "So.",
    /* French */
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "lun.",
    "mar.",
    "mer.",
    "jeu.",
    "ven.",
    "sam.",
    "dim.",
    /* Spanish, Portuguese */
    "lunes",
    "martes",
    "miércoles",
    "Miércoles",
    "jueves",
    "viernes",
    "sábado",
    "Sábado",
    "domingo",
    "segunda-feira",
    "terça-feira",
    "Terça-feira",
    "quarta-feira",
    "quinta-feira",
    "sexta-feira",
    /* Italian */
    "lunedì",
    "martedì",
    "mercoledì",
    "giovedì",
    "venerdì",
    "sabato",
    "domenica",
    /* Dutch */
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
    /* Swedish, Norwegian, Danish */
    "måndag",
    "Måndag",
    "tisdag",
    "onsdag",
    "torsdag",
    "fredag",
    "lördag",
    "Lördag",
    "söndag",
    "Söndag",
    "mandag",
    "tirsdag",
    "lørdag",
    "Lørdag",
    "søndag",
    "Søndag",
    /* Polish */
    "poniedziałek",
    "Poniedziałek",
    "wtorek",
    "środa",
    "Środa",
    "czwartek",
    "piątek",
    "Piątek",
    "sobota",
    "niedziela",
    "pon.",
    "wt.",
    "śr.",
    "czw.",
    "pt.",
    "sob.",
    "niedz.",
    /* Russian */
    "понедельник",
    "Понедельник",
    "вторник",
    "Вторник",
    "среда",
    "Среда",
    "четверг",
    "Четверг",
    "пятница",
    "Пятница",
    "суббота",
    "Суббота",
    "воскресенье",
    "Воскресенье",
    "пн,",
    "вт,",
    "ср,",
    "чт,",
    "пт,",
    "сб,",
    "вс,",
    /* Ukrainian */
    "понеділок",
    "Понеділок",
    "вівторок",
    "Вівторок",
    "середа",
    "Середа",
    "четвер",
    "Четвер",
    "п'ятниця",
    "пʼятниця",
    "П'ятниця",
    "субота",
    "Субота",
    "неділя",
    "Неділя",
    "нд,",
    /* Chinese, Japanese, Korean */
    "星期",
    "周",
    "週",
    "月曜日",
    "火曜日",
    "水曜日",
    "木曜日",
    "金曜日",
    "土曜日",
    "日曜日",
    "월요일",
    "화요일",
    "수요일",
    "목요일",
    "금요일",
    "토요일",
    "일요일",
    NULL,
};

/* Words Gmail writes before the name in date-first headers: "пользователь
 * Jane написал:", "користувач Jane написав:", "użytkownik Jane napisał:". */
static const char *const user_words[] = {
    "пользователь", "Пользователь", "користувач", "Користувач", "użytkownik", "Użytkownik", NULL,
};

/* Words that open a quote header in the clients that start with one. */
static const char *const header_leads[] = {
    "On ",   "Am ", "Le ", "El ",      "Em ", "Il ", "Op ", "Den ", "På ", "W dniu ",
    "Dnia ", "В ",  "У ",  "Quoting ", "在 ", "在",  "於 ", "於",   NULL,
};

typedef struct {
    const char *key;
    TrimKey type;
} HeaderKey;

static const HeaderKey header_keys[] = {
    /* English */
    {"From", TRIM_KEY_FROM},
    {"Sent", TRIM_KEY_SENT},
    {"Date", TRIM_KEY_DATE},
    {"To", TRIM_KEY_TO},
    {"Subject", TRIM_KEY_SUBJECT},
    {"Cc", TRIM_KEY_CC},
    /* German */
    {"Von", TRIM_KEY_FROM},
    {"Gesendet", TRIM_KEY_SENT},
    {"Datum", TRIM_KEY_DATE},
    {"An", TRIM_KEY_TO},
    {"Betreff", TRIM_KEY_SUBJECT},
    {"Kopie", TRIM_KEY_CC},
    /* French */
    {"De", TRIM_KEY_FROM},
    {"Envoyé", TRIM_KEY_SENT},
    {"À", TRIM_KEY_TO},
    {"A", TRIM_KEY_TO},
    {"Objet", TRIM_KEY_SUBJECT},
    {"Copie", TRIM_KEY_CC},
    /* Spanish, Portuguese */
    {"Enviado el", TRIM_KEY_SENT},
    {"Enviado em", TRIM_KEY_SENT},
    {"Enviada em", TRIM_KEY_SENT},
    {"Enviado", TRIM_KEY_SENT},
    {"Fecha", TRIM_KEY_DATE},
    {"Para", TRIM_KEY_TO},
    {"Asunto", TRIM_KEY_SUBJECT},
    {"Assunto", TRIM_KEY_SUBJECT},
    {"CC", TRIM_KEY_CC},
    /* Italian */
    {"Da", TRIM_KEY_FROM},
    {"Inviato", TRIM_KEY_SENT},
    {"Data", TRIM_KEY_DATE},
    {"Oggetto", TRIM_KEY_SUBJECT},
    /* Dutch */
    {"Van", TRIM_KEY_FROM},
    {"Verzonden", TRIM_KEY_SENT},
    {"Aan", TRIM_KEY_TO},
    {"Onderwerp", TRIM_KEY_SUBJECT},
    /* Swedish, Norwegian, Danish */
    {"Från", TRIM_KEY_FROM},
    {"Skickat", TRIM_KEY_SENT},
    {"Till", TRIM_KEY_TO},
    {"Ämne", TRIM_KEY_SUBJECT},
    {"Fra", TRIM_KEY_FROM},
    {"Sendt", TRIM_KEY_SENT},
    {"Dato", TRIM_KEY_DATE},
    {"Til", TRIM_KEY_TO},
    {"Emne", TRIM_KEY_SUBJECT},
    /* Polish */
    {"Od", TRIM_KEY_FROM},
    {"Wysłano", TRIM_KEY_SENT},
    {"Do", TRIM_KEY_TO},
    {"Temat", TRIM_KEY_SUBJECT},
    {"DW", TRIM_KEY_CC},
    /* Russian, Ukrainian */
    {"От", TRIM_KEY_FROM},
    {"Отправлено", TRIM_KEY_SENT},
    {"Дата", TRIM_KEY_DATE},
    {"Кому", TRIM_KEY_TO},
    {"Тема", TRIM_KEY_SUBJECT},
    {"Копия", TRIM_KEY_CC},
    {"Від", TRIM_KEY_FROM},
    {"Надіслано", TRIM_KEY_SENT},
    {"Копія", TRIM_KEY_CC},
    /* Chinese (simplified, traditional) */
    {"发件人", TRIM_KEY_FROM},
    {"发送时间", TRIM_KEY_SENT},
    {"日期", TRIM_KEY_DATE},
    {"收件人", TRIM_KEY_TO},
    {"主题", TRIM_KEY_SUBJECT},
    {"抄送", TRIM_KEY_CC},
    {"寄件者", TRIM_KEY_FROM},
    {"寄件人", TRIM_KEY_FROM},
    {"寄件日期", TRIM_KEY_SENT},
    {"傳送時間", TRIM_KEY_SENT},
    {"收件者", TRIM_KEY_TO},
    {"主旨", TRIM_KEY_SUBJECT},
    {"副本", TRIM_KEY_CC},
    /* Japanese */
    {"差出人", TRIM_KEY_FROM},
    {"送信日時", TRIM_KEY_SENT},
    {"日付", TRIM_KEY_DATE},
    {"宛先", TRIM_KEY_TO},
    {"件名", TRIM_KEY_SUBJECT},
    /* Korean */
    {"보낸 사람", TRIM_KEY_FROM},
    {"보낸 날짜", TRIM_KEY_SENT},
    {"날짜", TRIM_KEY_DATE},
    {"받는 사람", TRIM_KEY_TO},
    {"보낸사람", TRIM_KEY_FROM},
    {"받는사람", TRIM_KEY_TO},
    {"제목", TRIM_KEY_SUBJECT},
    {"참조", TRIM_KEY_CC},
    {NULL, TRIM_KEY_NONE},
};

/* Text between the dashes of an "Original Message" rule. */
static const char *const original_phrases[] = {
    "Original Message",
    "Original",
    "Ursprüngliche Nachricht",
    "Originalnachricht",
    "Original-Nachricht",
    "Ursprüngliche Mail",
    "Mail original",
    "Mensaje original",
    "Message d'origine",
    "Message d’origine",
    "Message original",
    "Mensaje original",
    "Mensagem original",
    "Messaggio originale",
    "Oorspronkelijk bericht",
    "Origineel bericht",
    "Ursprungligt meddelande",
    "Opprinnelig melding",
    "Oprindelig meddelelse",
    "Original meddelelse",
    "Oryginalna wiadomość",
    "Wiadomość oryginalna",
    "Исходное сообщение",
    "Исходное письмо",
    "Оригінальне повідомлення",
    "Початкове повідомлення",
    "原始邮件",
    "原始郵件",
    "原始信息",
    "元のメッセージ",
    "원본 메시지",
    "원본 메일",
    "원래 메시지",
    NULL,
};

/* Text between the dashes of a forward rule, or a whole forward line. */
static const char *const forward_phrases[] = {
    "Forwarded message",
    "Forwarded Message",
    "Weitergeleitete Nachricht",
    "Message transféré",
    "Mensaje reenviado",
    "Mensagem encaminhada",
    "Messaggio inoltrato",
    "Doorgestuurd bericht",
    "Vidarebefordrat meddelande",
    "Videresendt melding",
    "Videresendt meddelelse",
    "Videresendt besked",
    "Przekazana wiadomość",
    "Wiadomość przekazana",
    "Пересылаемое сообщение",
    "Пересланное сообщение",
    "Переслане повідомлення",
    "Пересланий лист",
    "转发的邮件",
    "轉寄的郵件",
    "已转发邮件",
    "転送されたメッセージ",
    "転送メッセージ",
    "전달된 메시지",
    "전달된 메일",
    "Begin forwarded message",
    "Anfang der weitergeleiteten Nachricht",
    "Début du message réexpédié",
    "Début du message transféré",
    "Inicio del mensaje reenviado",
    "Início da mensagem reencaminhada",
    "Começo da mensagem encaminhada",
    "Inizio messaggio inoltrato",
    "Begin doorgestuurd bericht",
    "Vidarebefordrat mejl",
    "Start på videresendt melding",
    "Start på videresendt besked",
    "Początek przekazanej wiadomości",
    "Начало пересылаемого сообщения",
    "Начало переадресованного сообщения",
    "Початок пересланого повідомлення",
    "转发的邮件",
    "以下是轉寄的郵件",
    "転送されたメール",
    "전달된 메일",
    NULL,
};

/* LOWER - ASCII lower case of a byte, inline (g_ascii_tolower is a call). */
#define LOWER(c) ((char)((c) >= 'A' && (c) <= 'Z' ? (c) + ('a' - 'A') : (c)))

/* ci_prefix - does s (len bytes) start with p, ASCII case-insensitively? */
static gboolean
ci_prefix(const char *s, gsize len, const char *p)
{
    gsize plen = strlen(p);

    return plen <= len && g_ascii_strncasecmp(s, p, plen) == 0;
}

/* ci_equal - is s (len bytes) equal to p, ASCII case-insensitively? */
static gboolean
ci_equal(const char *s, gsize len, const char *p)
{
    return strlen(p) == len && g_ascii_strncasecmp(s, p, len) == 0;
}

/* Bytes that may start a space or a fullwidth colon: ASCII white space and
 * the lead bytes of U+00A0, U+2007/2009/200B/202F, U+3000, U+FEFF, U+FF1A.
 * Every other byte is copied as it is. */
static const guint8 normalize_special[256] = {
    [' '] = 1,  ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, ['\v'] = 1,
    ['\f'] = 1, [0xC2] = 1, [0xE2] = 1, [0xE3] = 1, [0xEF] = 1,
};

/* trim_lang_normalize - NBSP-like and zero-width spaces and the BOM to ' ',
 * direction marks and joiners dropped, fullwidth colon to ':', collapse and
 * trim spaces. The result is never
 * longer than the input, so it is written into out's buffer directly, a run
 * of ordinary bytes at a time. */
void
trim_lang_normalize(GString *out, const char *s, gsize len)
{
    gsize i = 0;
    gboolean space = FALSE;
    char *o;

    g_string_set_size(out, len);
    o = out->str;
    while (i < len) {
        const guchar *u = (const guchar *)s + i;
        gsize left = len - i;
        gsize step = 0;

        if (!normalize_special[*u]) {
            gsize j = i + 1;

            while (j < len && !normalize_special[(guchar)s[j]])
                j++;
            if (space && o > out->str)
                *o++ = ' ';
            space = FALSE;
            memcpy(o, s + i, j - i);
            o += j - i;
            i = j;
            continue;
        }
        if (*u < 0x80)
            step = 1;
        else if (left >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
            step = 2;
        else if (left >= 3 && u[0] == 0xE2 && u[1] == 0x80 &&
                 (u[2] == 0xAF || u[2] == 0x87 || u[2] == 0x89 || u[2] == 0x8B))
            step = 3;
        else if (left >= 3 && ((u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) ||
                               (u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)))
            step = 3;
        if (step > 0) {
            space = TRUE;
            i += step;
            continue;
        }
        /* Direction marks and joiners are invisible, and no space either:
         * Windows Mail writes "\u200e12\u200e:\u200e00". */
        if (left >= 3 && u[0] == 0xE2 &&
            ((u[1] == 0x80 && u[2] >= 0x8C && u[2] <= 0x8F) || (u[1] == 0x81 && u[2] == 0xA0))) {
            i += 3;
            continue;
        }
        if (space && o > out->str)
            *o++ = ' ';
        space = FALSE;
        if (left >= 3 && u[0] == 0xEF && u[1] == 0xBC && u[2] == 0x9A) {
            *o++ = ':';
            i += 3;
            continue;
        }
        /* a lead byte of some other character: its own run starts next */
        *o++ = (char)*u;
        i++;
    }
    out->len = (gsize)(o - out->str);
    out->str[out->len] = '\0';
}

/* has_time_or_year - does s hold "h:mm", "h.mm", a year "19xx"/"20xx" or '@'? */
static gboolean
has_time_or_year(const char *s, gsize len)
{
    gsize i;
    gsize run = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '@')
            return TRUE;
        if (!g_ascii_isdigit(s[i])) {
            run = 0;
            continue;
        }
        run++;
        if (run == 4 && (s[i - 3] == '1' || s[i - 3] == '2') &&
            (i + 1 >= len || !g_ascii_isdigit(s[i + 1])))
            return TRUE;
        if (i + 3 < len && (s[i + 1] == ':' || s[i + 1] == '.') && g_ascii_isdigit(s[i + 2]) &&
            g_ascii_isdigit(s[i + 3]))
            return TRUE;
    }
    return FALSE;
}

/* header_word_first_bytes - a table of the (lower-case) first bytes of the
 * header verbs, built once, so most positions are rejected in one look. */
static const guint8 *
header_word_first_bytes(void)
{
    static guint8 table[256];
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        const HeaderWord *w;

        for (w = header_words; w->word != NULL; w++)
            table[(guchar)w->word[0]] = 1;
        g_once_init_leave(&done, 1);
    }
    return table;
}

/* has_header_word - is one of the header verbs in the tail of s, as a word? */
static gboolean
has_header_word(const char *s, gsize len)
{
    const guint8 *first = header_word_first_bytes();
    gsize start = len > 200 ? len - 200 : 0;
    gsize p;

    for (p = start; p < len; p++) {
        const HeaderWord *w;
        char c = LOWER(s[p]);

        if (!first[(guchar)c])
            continue;
        for (w = header_words; w->word != NULL; w++) {
            gsize wl;
            guchar after;

            if (c != w->word[0])
                continue;
            wl = strlen(w->word);
            if (p + wl > len || g_ascii_strncasecmp(s + p, w->word, wl) != 0)
                continue;
            if (w->cjk)
                return TRUE;
            if (p > 0 && strchr(" >),\"'", s[p - 1]) == NULL)
                continue;
            after = p + wl < len ? (guchar)s[p + wl] : ' ';
            if (g_ascii_isalpha(after))
                continue;
            return TRUE;
        }
    }
    return FALSE;
}

/* ends_with_address - does s end with "<...@...>:" after a year and a time
 * "h:mm" (Gmail's Russian and Japanese headers have no verb)? */
static gboolean
ends_with_address(const char *s, gsize len)
{
    gsize i;
    gsize lt;
    gboolean at = FALSE;
    gboolean time = FALSE;
    gboolean year = FALSE;

    if (len < 4 || s[len - 1] != ':')
        return FALSE;
    i = len - 1;
    while (i > 0 && s[i - 1] == ' ')
        i--;
    if (i == 0 || s[i - 1] != '>')
        return FALSE;
    for (lt = i - 1; lt > 0 && s[lt - 1] != '<'; lt--)
        if (s[lt - 1] == '@')
            at = TRUE;
    if (lt == 0 || !at)
        return FALSE;
    /* Without a verb, only a full date and time make it a header. */
    for (i = 0; i + 3 < lt; i++) {
        if (g_ascii_isdigit(s[i]) && s[i + 1] == ':' && g_ascii_isdigit(s[i + 2]) &&
            g_ascii_isdigit(s[i + 3]))
            time = TRUE;
        if ((s[i] == '1' || s[i] == '2') && (i == 0 || !g_ascii_isdigit(s[i - 1])) &&
            g_ascii_isdigit(s[i + 1]) && g_ascii_isdigit(s[i + 2]) && g_ascii_isdigit(s[i + 3]) &&
            (i + 4 >= lt || !g_ascii_isdigit(s[i + 4])))
            year = TRUE;
    }
    return time && year;
}

/* has_angle_address - does s hold "<...@...>"? */
static gboolean
has_angle_address(const char *s, gsize len)
{
    const char *lt = memchr(s, '<', len);
    const char *at;

    if (lt == NULL)
        return FALSE;
    at = memchr(lt, '@', len - (gsize)(lt - s));
    return at != NULL && memchr(at, '>', len - (gsize)(at - s)) != NULL;
}

/* starts_with_weekday - does s open with a weekday of the table, as a word? */
static gboolean
starts_with_weekday(const char *s, gsize len)
{
    gsize i;

    for (i = 0; weekdays[i] != NULL; i++) {
        gsize wl = strlen(weekdays[i]);
        char last = weekdays[i][wl - 1];

        if (!ci_prefix(s, len, weekdays[i]))
            continue;
        /* "Sat," and "Mo." carry their end; a full name needs one. */
        if (last == '.' || last == ',' || (guchar)weekdays[i][0] >= 0xE3 || wl == len ||
            strchr(" ,.", s[wl]) != NULL)
            return TRUE;
    }
    return FALSE;
}

/* has_user_word - does s hold Gmail's "пользователь" or its translations? */
static gboolean
has_user_word(const char *s, gsize len)
{
    gsize i;

    for (i = 0; user_words[i] != NULL; i++)
        if (g_strstr_len(s, (gssize)len, user_words[i]) != NULL)
            return TRUE;
    return FALSE;
}

/* strip_decoration - drop the dashes and emphasis around a header:
 * "---- On ... wrote ----" (Zoho), "*On ... wrote:*"; TRUE when a run of
 * two or more closes it, which then stands for the missing colon */
static gboolean
strip_decoration(const char **s, gsize *len)
{
    static const char deco[] = "-*_=~ ";
    gsize closing = 0;

    while (*len > 0 && strchr(deco, (*s)[0]) != NULL) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && strchr(deco, (*s)[*len - 1]) != NULL) {
        closing += (*s)[*len - 1] != ' ';
        (*len)--;
    }
    return closing >= 2;
}

/* is_date_address - the old Gmail form, a date first and the address last,
 * with or without a colon: "2013/7/20 Jane via Site <jane@example.com>",
 * "2016-03-03 17:21 GMT+01:00 Jane <jane@example.com>:" */
static gboolean
is_date_address(const char *s, gsize len)
{
    gsize i = 0;
    gsize end = len;
    gsize lt;
    int part;

    for (part = 0; part < 3; part++) {
        gsize start = i;

        while (i < len && g_ascii_isdigit(s[i]))
            i++;
        if (i == start || i - start > (part == 0 ? 4 : 2) || (part == 0 && i - start != 4))
            return FALSE;
        if (part < 2) {
            if (i >= len || (s[i] != '/' && s[i] != '-' && s[i] != '.'))
                return FALSE;
            i++;
        }
    }
    if (i >= len || s[i] != ' ')
        return FALSE;
    while (end > i && (s[end - 1] == ':' || s[end - 1] == ' '))
        end--;
    if (end <= i || s[end - 1] != '>')
        return FALSE;
    for (lt = end - 1; lt > i && s[lt - 1] != '<'; lt--)
        ;
    /* Exactly one address, and a name (or "via Site") before it. */
    return lt > i + 1 && memchr(s + lt, '@', end - lt) != NULL &&
           memchr(s + lt, ' ', end - lt) == NULL;
}

/* ends_with_header_word - does s end with one of the verbs ("wrote")? */
static gboolean
ends_with_header_word(const char *s, gsize len)
{
    gsize p = len;

    while (p > 0 && s[p - 1] != ' ')
        p--;
    return p < len && has_header_word(s + (p > 0 ? p - 1 : 0), len - (p > 0 ? p - 1 : 0));
}

/* trim_lang_is_header_start - does the line open the way quote headers do:
 * a lead word ("On ", "Am ", "Le ", ...), a weekday, a digit, "<...@...>",
 * an address wrapped after its '<', a date with a year and a time, or the
 * dashes of Zoho's "---- On"? */
gboolean
trim_lang_is_header_start(const char *s, gsize len)
{
    gsize i;
    gboolean year = FALSE;
    gboolean time = FALSE;

    strip_decoration(&s, &len);
    if (len == 0)
        return FALSE;
    if (g_ascii_isdigit(s[0]) || s[len - 1] == '<' || has_angle_address(s, len))
        return TRUE;
    for (i = 0; header_leads[i] != NULL; i++)
        if (ci_prefix(s, len, header_leads[i]))
            return TRUE;
    if (starts_with_weekday(s, len))
        return TRUE;
    for (i = 0; i + 3 < len; i++) {
        if (g_ascii_isdigit(s[i]) && (s[i + 1] == ':' || s[i + 1] == '.') &&
            g_ascii_isdigit(s[i + 2]) && g_ascii_isdigit(s[i + 3]))
            time = TRUE;
        if ((s[i] == '1' || s[i] == '2') && (i == 0 || !g_ascii_isdigit(s[i - 1])) &&
            g_ascii_isdigit(s[i + 1]) && g_ascii_isdigit(s[i + 2]) && g_ascii_isdigit(s[i + 3]) &&
            (i + 4 >= len || !g_ascii_isdigit(s[i + 4])))
            year = TRUE;
    }
    return year && time;
}

/* trim_lang_is_weak_header - is the normalized text a quote header only by
 * Gmail's old colon-less "2013/7/20 Jane <addr>" form? A sentence can look
 * like it ("2015-12-22 meeting with <jane@example.com>"), so it counts only
 * before a '>' quote. */
gboolean
trim_lang_is_weak_header(const char *s, gsize len)
{
    strip_decoration(&s, &len);
    while (len > 0 && s[len - 1] == ' ')
        len--;
    return len > 0 && s[len - 1] != ':' && is_date_address(s, len);
}

/* trim_lang_is_header_lead - does the line open with a lead word ("On ",
 * "Am ", "W dniu ", ...) or a weekday, the strong openings of a header? */
gboolean
trim_lang_is_header_lead(const char *s, gsize len)
{
    gsize i;

    strip_decoration(&s, &len);
    for (i = 0; header_leads[i] != NULL; i++)
        if (ci_prefix(s, len, header_leads[i]))
            return TRUE;
    return starts_with_weekday(s, len);
}

/* trim_lang_is_quote_header - an "On ... wrote:" line in any language? Also
 * the date-first forms (Gmail's "2013/7/20 Jane <addr>", "понедельник, 6
 * октября 2014 г. пользователь Jane написал:") and the decorated ones
 * (Zoho's "---- On ... wrote ----", "*On ... wrote:*"). */
gboolean
trim_lang_is_quote_header(const char *s, gsize len)
{
    gboolean decorated = strip_decoration(&s, &len);
    gboolean digit = FALSE;
    gboolean colon;
    gboolean lead = FALSE;
    gsize i;

    if (len < 6 || len > TRIM_HEADER_MAX_LINES * TRIM_LANG_MAX_LINE)
        return FALSE;
    if (is_date_address(s, len))
        return TRUE;
    colon = s[len - 1] == ':';
    if (!colon && !decorated)
        return FALSE;
    for (i = 0; i < len && !digit; i++)
        digit = g_ascii_isdigit(s[i]);
    /* A date, or at least an address: "Jane <jane@example.com> wrote:". */
    if ((!digit && !has_angle_address(s, len)) || !has_time_or_year(s, len))
        return FALSE;
    lead =
        memchr(s, '@', len) != NULL || trim_lang_is_header_start(s, len) || has_user_word(s, len);
    if (!lead)
        return FALSE;
    if (colon)
        return has_header_word(s, len) || ends_with_address(s, len);
    /* Zoho closes its header with dashes instead of a colon, after the
     * verb ("wrote ----") or after the address ("schrieb Jane <j@x> ----"). */
    return ends_with_header_word(s, len) || (s[len - 1] == '>' && has_header_word(s, len));
}

/* trim_lang_header_key - the Outlook header key that opens the line. */
TrimKey
trim_lang_header_key(const char *s, gsize len)
{
    const HeaderKey *k;

    while (len > 0 && (*s == '*' || *s == ' ')) {
        s++;
        len--;
    }
    if (len == 0)
        return TRIM_KEY_NONE;
    for (k = header_keys; k->key != NULL; k++) {
        gsize kl;
        gsize j;

        if (LOWER(s[0]) != LOWER(k->key[0]))
            continue;
        kl = strlen(k->key);
        if (!ci_prefix(s, len, k->key))
            continue;
        for (j = kl; j < len && (s[j] == ' ' || s[j] == '*'); j++)
            ;
        if (j < len && s[j] == ':')
            return k->type;
    }
    return TRIM_KEY_NONE;
}

/* phrase_in - is s (len bytes) one of the phrases? */
static gboolean
phrase_in(const char *s, gsize len, const char *const *phrases)
{
    gsize i;

    if (len == 0)
        return FALSE;
    for (i = 0; phrases[i] != NULL; i++)
        if (LOWER(s[0]) == LOWER(phrases[i][0]) && ci_equal(s, len, phrases[i]))
            return TRUE;
    return FALSE;
}

/* trim_lang_rule - Original Message, forward and underscore rules. */
TrimRule
trim_lang_rule(const char *s, gsize len)
{
    gsize a = 0;
    gsize b = len;
    gsize dashes = 0;

    if (len == 0 || len > TRIM_LANG_MAX_LINE)
        return TRIM_RULE_NONE;
    if (len >= 10 && s[0] == '_') {
        gsize i;

        for (i = 0; i < len && s[i] == '_'; i++)
            ;
        if (i == len)
            return TRIM_RULE_UNDERSCORE;
    }
    /* "-----Original Message-----", "*-------- Original Message --------*"
     * (emphasis around Outlook's rule), "==== Forwarded message ====" (Zoho). */
    while (a < b && strchr("-=*_ ", s[a]) != NULL) {
        dashes += s[a] == '-' || s[a] == '=' || s[a] == '_';
        a++;
    }
    while (b > a && strchr("-=*_ :", s[b - 1]) != NULL)
        b--;
    if (dashes >= 3 && phrase_in(s + a, b - a, original_phrases))
        return TRIM_RULE_ORIGINAL;
    if (phrase_in(s + a, b - a, forward_phrases))
        return TRIM_RULE_FORWARD;
    return TRIM_RULE_NONE;
}
