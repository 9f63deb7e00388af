# Authoring helpers for the corpus: build messages in the shapes real clients
# send, and their .expect files. The messages in ../messages are what the
# tests read; these scripts are how they were written, kept so the corpus can
# be regenerated or extended (python3 make.py). The test runner needs no Python.
import base64, hashlib, hmac, json, os, quopri

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = open(os.path.join(HERE, '..', 'test-secret'), 'rb').read().rstrip(b'\n')
OUT = os.path.join(HERE, '..', 'messages')
DEDICATED = 'reply@reply.example.com'
NOTIFIER = 'Tracker'

def mac(kind, target, user):
    return hmac.new(SECRET, f'{kind}-{target}-{user}'.encode(), hashlib.sha256).hexdigest()[:40]

def addr(kind, target, user, domain='reply.example.com'):
    return f'reply+{kind}-{target}-{mac(kind, target, user)}-{user}@{domain}'

def key(kind, target, user, source):
    return {'kind': kind, 'target': target, 'user': user, 'source': source}

def notif_id(kind, target, user):
    # Notifications carry a Message-ID whose left@right is a reply address.
    return '<' + addr(kind, target, user) + '>'

def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return '\r\n'.join(s[i:i + width] for i in range(0, len(s), width))

def qp(text, charset='utf-8'):
    return quopri.encodestring(text.encode(charset)).decode('ascii').replace('\n', '\r\n')

def ew_b(text, charset='UTF-8'):
    return f'=?{charset}?B?{base64.b64encode(text.encode(charset if charset.lower() != "iso-2022-jp" else "iso2022_jp")).decode()}?='

def ew_q(text, charset='utf-8'):
    out = ''
    for b in text.encode(charset):
        c = chr(b)
        if c == ' ':
            out += '_'
        elif c.isalnum() and b < 128:
            out += c
        else:
            out += '=%02X' % b
    return f'=?{charset}?Q?{out}?='

def crlf(text):
    return text.replace('\r\n', '\n').replace('\n', '\r\n')

def sha(data):
    return hashlib.sha256(data).hexdigest()

def received(by_host, from_host, for_addr=None, date='Sat, 21 Nov 2026 15:13:01 +0100'):
    forpart = f'\r\n\tfor <{for_addr}>' if for_addr else ''
    return (f'Received: from {from_host} ({from_host} [192.0.2.25])\r\n'
            f'\tby {by_host} (Postfix) with ESMTPS id 4Hx7Kd2Zr9z9sWk{forpart};\r\n'
            f'\t{date}')

def write(name, headers, body, expect, raw=None):
    """headers: list of header lines (may contain folded lines); body: str (CRLF) or bytes."""
    os.makedirs(OUT, exist_ok=True)
    if raw is None:
        head = '\r\n'.join(headers) + '\r\n\r\n'
        if not isinstance(body, bytes):
            try:
                body = body.encode('latin-1')  # 8bit parts were built as latin-1 strings of bytes
            except UnicodeEncodeError:
                body = body.encode('utf-8')
        data = head.encode('utf-8') + body
    else:
        data = raw
    with open(os.path.join(OUT, name + '.eml'), 'wb') as f:
        f.write(data)
    with open(os.path.join(OUT, name + '.expect'), 'w') as f:
        json.dump(expect, f, ensure_ascii=False, indent=2)
        f.write('\n')
