# Client shapes: each returns (headers, body) for a reply.
from lib import *

NOTE = ('Alice opened an issue in acme/widgets:\n\n'
        'Build fails on ARM\n\n'
        'The build stops at the linker step on aarch64.\n\n'
        '--\nReply to this email directly or view it on Tracker.\n')

def quote(text, prefix='> '):
    return ''.join((prefix + l).rstrip() + '\n' if l else prefix.rstrip() + '\n'
                   for l in text.rstrip('\n').split('\n'))

def html_escape(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')

def html_lines(text):
    return '<br>\n'.join(html_escape(l) for l in text.rstrip('\n').split('\n'))

def text_part(text, charset='UTF-8', cte=None, ctype='text/plain', extra='', quoted_charset=True, codec=None):
    cs = f'charset="{charset}"' if quoted_charset else f'charset={charset}'
    if cte is None:
        try:
            text.encode('ascii'); cte = '7bit'
        except UnicodeEncodeError:
            cte = 'quoted-printable'
    pycs = {'iso-2022-jp': 'iso2022_jp', 'ks_c_5601-1987': 'cp949', 'big5': 'big5',
            'gb2312': 'gb2312', 'gbk': 'gbk'}.get(charset.lower(), charset)
    pycs = codec or pycs
    h = f'Content-Type: {ctype}; {cs}{extra}\r\n'
    if cte == 'quoted-printable':
        body = qp(crlf(text).replace('\r\n', '\n'), pycs)
    elif cte == 'base64':
        body = b64(crlf(text).encode(pycs))
    else:
        body = crlf(text).encode(pycs).decode('latin-1')
    if cte != '7bit' or charset.lower() == 'iso-2022-jp':
        h += f'Content-Transfer-Encoding: {cte}\r\n'
    return h + '\r\n' + body

def multipart(subtype, boundary, parts, preamble=''):
    out = preamble
    for p in parts:
        out += f'--{boundary}\r\n{p}\r\n'
    out += f'--{boundary}--\r\n'
    return f'multipart/{subtype}; boundary="{boundary}"', out

def assemble(top, ctype_body):
    """top: header lines; ctype_body: (content-type value, body) or a single part string."""
    if isinstance(ctype_body, tuple):
        ctype, body = ctype_body
        return top + [f'Content-Type: {ctype}'], body
    head, _, body = ctype_body.partition('\r\n\r\n')
    return top + head.split('\r\n'), body

def gmail_wrap(attr):
    """Gmail's text/plain wraps a long attribution before the address."""
    if len(attr) <= 78 or '<' not in attr:
        return attr
    i = attr.index('<') + 1
    return attr[:i] + '\n' + attr[i:]

# ---- Gmail web / Android -------------------------------------------------
def gmail(reply, attr, frm, to, subject, msgid, date, kind=None, target=None, user=None,
          extra_top=(), plain_override=None, html_reply=None, refs=None, android=False,
          quoted=NOTE):
    nid = refs if refs is not None else notif_id(kind, target, user)
    plain = plain_override if plain_override is not None else (
        reply.rstrip('\n') + '\n\n' + gmail_wrap(attr) + '\n\n' + quote(quoted))
    rhtml = html_reply or ''.join(f'<div>{html_escape(l) or "<br>"}</div>' for l in reply.rstrip('\n').split('\n'))
    html = (f'<div dir="ltr">{rhtml}</div><br><div class="gmail_quote"><div dir="ltr" '
            f'class="gmail_attr">{html_escape(attr)}<br></div><blockquote class="gmail_quote" '
            f'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);'
            f'padding-left:1ex">{html_lines(quoted)}</blockquote></div>\n')
    top = list(extra_top) + [
        'MIME-Version: 1.0',
    ]
    if nid:
        top += [f'References: {nid}', f'In-Reply-To: {nid}']
    top += [f'From: {frm}', f'Date: {date}', f'Message-ID: <{msgid}>',
            f'Subject: {subject}', f'To: {to}']
    b = '000000000000' + hashlib.md5(msgid.encode()).hexdigest()[:16]
    return assemble(top, multipart('alternative', b, [text_part(plain), text_part(html, ctype='text/html')]))

# ---- Outlook desktop ------------------------------------------------------
def outlook_block(labels, frm, sent, to, subject):
    f, s, t, su = labels
    return (f'________________________________\n{f}: {frm}\n{s}: {sent}\n{t}: {to}\n{su}: {subject}\n')

def outlook(reply, block, frm, to, subject, msgid, date, nid, charset='us-ascii',
            extra_top=(), quoted=NOTE, cte=None, lang='en-US', attachments=(), html_only=False,
            codec=None):
    plain = reply.rstrip('\n') + '\n\n' + block + '\n' + quoted
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            '</head><body><div class="WordSection1">'
            + ''.join(f'<p class="MsoNormal">{html_escape(l) or "&nbsp;"}</p>' for l in reply.rstrip('\n').split('\n'))
            + '</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
            '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">'
            + html_lines(block.split('\n', 1)[1]) + '</font><div>&nbsp;</div></div><div>'
            + html_lines(quoted) + '</div></body></html>\n')
    top = list(extra_top) + [
        f'From: {frm}', f'To: {to}', f'Subject: {subject}',
        'Thread-Topic: ' + subject.replace('RE: ', '').replace('AW: ', ''),
        'Thread-Index: AQHa3kLm8zq0Rj1cT0yXb2eG5Hn1Ng==',
        f'Date: {date}', f'Message-ID: <{msgid}>',
    ]
    if nid:
        top += [f'References: {nid}', f'In-Reply-To: {nid}']
    top += [f'Content-Language: {lang}', 'X-MS-Has-Attach: ' + ('yes' if attachments else ''),
            'X-MS-TNEF-Correlator:', 'MIME-Version: 1.0']
    b = '_000_' + hashlib.md5(msgid.encode()).hexdigest()[:24].upper() + '_'
    if html_only:
        body = text_part(html, charset='utf-8', ctype='text/html')
    else:
        body = multipart('alternative', b, [text_part(plain, charset=charset, cte=cte, codec=codec),
                                            text_part(html, charset='utf-8', ctype='text/html')])
    if attachments:
        inner = body if isinstance(body, str) else f'Content-Type: {body[0]}\r\n\r\n{body[1]}'
        body = multipart('mixed', '_004_' + b[5:], [inner] + list(attachments))
    return assemble(top, body)

# ---- Apple Mail / iOS Mail -------------------------------------------------
def apple(reply, attr, frm, to, subject, msgid, date, nid, ios=False, sig=None,
          extra_top=(), quoted=NOTE, flowed=False, html=True):
    body_reply = reply.rstrip('\n') + ('\n\n' + sig if sig else '')
    plain = body_reply + '\n\n' + ('> ' if ios else '') + attr + '\n' + ('>\n' if ios else '\n') + quote(quoted)
    top = list(extra_top) + [
        'Content-Type: PLACEHOLDER',
        'Mime-Version: 1.0 (1.0)' if ios else 'Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))',
        f'Subject: {subject}', f'From: {frm}', f'In-Reply-To: {nid}' if nid else None,
        f'Date: {date}',
        f'References: {nid}' if nid else None, f'To: {to}', f'Message-Id: <{msgid}>',
        'X-Mailer: iPhone Mail (22B91)' if ios else 'X-Mailer: Apple Mail (2.3774.600.62)',
    ]
    top = [h for h in top if h]
    b = 'Apple-Mail-' + hashlib.md5(msgid.encode()).hexdigest()[:8].upper() + '-7D5C-4E5B-9F1A-1C2B3D4E5F60'
    extra = '; format=flowed' if flowed else ''
    if flowed:
        plain = flow(plain)
    parts = [text_part(plain, charset='utf-8', extra=extra, quoted_charset=False)]
    if html:
        h = ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
             '<body dir="auto">' + ''.join(f'<div>{html_escape(l) or "<br>"}</div>' for l in body_reply.split('\n'))
             + f'<div><br><blockquote type="cite">{html_escape(attr)}<br><br></blockquote></div>'
             + f'<blockquote type="cite"><div>{html_lines(quoted)}</div></blockquote></body></html>')
        parts.append(text_part(h, charset='utf-8', ctype='text/html', quoted_charset=False))
        ct, body = multipart('alternative', b, parts)
    else:
        head, _, body = parts[0].partition('\r\n\r\n')
        top = [h for h in top if not h.startswith('Content-Type')] + head.split('\r\n')
        return top, body
    top = [('Content-Type: ' + ct) if h == 'Content-Type: PLACEHOLDER' else h for h in top]
    return top, body

def flow(text, width=40):
    """format=flowed: soft-wrap long unquoted lines with a trailing space."""
    out = []
    for line in text.split('\n'):
        if line.startswith('>') or len(line) <= width or line == '-- ':
            out.append(line)
            continue
        words = line.split(' ')
        cur = ''
        for w in words:
            if cur and len(cur) + 1 + len(w) > width:
                out.append(cur + ' ')
                cur = w
            else:
                cur = (cur + ' ' + w) if cur else w
        out.append(cur)
    return '\n'.join(out)

# ---- Thunderbird ------------------------------------------------------------
def thunderbird(reply, attr, frm, to, subject, msgid, date, nid, charset='UTF-8', lang='en-US',
                extra_top=(), quoted=NOTE, attachments=(), sig=None, html_only=False, cte=None):
    body_reply = reply.rstrip('\n') + ('\n\n-- \n' + sig if sig else '')
    plain = reply.rstrip('\n') + '\n\n' + attr + '\n' + quote(quoted)
    if sig:
        plain = reply.rstrip('\n') + '\n\n-- \n' + sig + '\n\n' + attr + '\n' + quote(quoted)
    top = list(extra_top) + [
        f'Message-ID: <{msgid}>', f'Date: {date}', 'MIME-Version: 1.0',
        'User-Agent: Mozilla Thunderbird', f'Subject: {subject}', f'Content-Language: {lang}',
        f'To: {to}', f'References: {nid}' if nid else None, f'From: {frm}',
        f'In-Reply-To: {nid}' if nid else None,
    ]
    top = [h for h in top if h]
    if html_only:
        h = ('<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\n  </head>\n  <body>\n'
             + ''.join(f'    <p>{html_escape(l)}</p>\n' for l in reply.rstrip('\n').split('\n\n'))
             + f'    <div class="moz-cite-prefix">{html_escape(attr)}<br>\n    </div>\n'
             + f'    <blockquote type="cite" cite="mid:{nid.strip("<>") if nid else ""}">{html_lines(quoted)}</blockquote>\n  </body>\n</html>\n')
        part = text_part(h, charset='UTF-8', ctype='text/html')
    else:
        part = text_part(flow(plain, 72), charset=charset, extra='; format=flowed', cte=cte)
    if attachments:
        b = '------------' + hashlib.md5(msgid.encode()).hexdigest()[:24]
        return assemble(top, multipart('mixed', b, [part] + list(attachments),
                                       preamble='This is a multi-part message in MIME format.\r\n'))
    return assemble(top, part)

def attachment(ctype, filename_header_params, data, inline=False, cid=None, cte='base64'):
    disp = 'inline' if inline else 'attachment'
    h = f'Content-Type: {ctype}{filename_header_params[0]}\r\n'
    h += f'Content-Disposition: {disp}{filename_header_params[1]}\r\n'
    if cid:
        h += f'Content-ID: <{cid}>\r\n'
    h += f'Content-Transfer-Encoding: {cte}\r\n\r\n'
    return h + b64(data)
