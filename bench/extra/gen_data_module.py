"""Writes a Wasm module with one large active data segment, for the
instantiation measurement, and a C header with the facts the host checks.

The module: memory 0 (exported as "memory") big enough for the segment,
the segment of LEN pseudo-random bytes at offset 65536, and an export
`get: [i32] -> [i32]` returning the byte at an address.

usage: gen_data_module.py LEN OUT.wasm OUT_FACTS.h
"""
import random
import sys

OFFSET = 65536
PAGE = 65536


def leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + leb(len(payload)) + payload


def name(s: str) -> bytes:
    return leb(len(s)) + s.encode()


def module(data: bytes) -> bytes:
    pages = (OFFSET + len(data) + PAGE - 1) // PAGE
    types = leb(1) + b"\x60" + leb(1) + b"\x7f" + leb(1) + b"\x7f"
    funcs = leb(1) + leb(0)
    memory = leb(1) + b"\x00" + leb(pages)
    exports = leb(2) + name("memory") + b"\x02" + leb(0) + name("get") + b"\x00" + leb(0)
    body = leb(0) + b"\x20\x00" + b"\x2d\x00\x00" + b"\x0b"  # local.get 0; i32.load8_u; end
    code = leb(1) + leb(len(body)) + body
    seg = b"\x00" + b"\x41" + sleb(OFFSET) + b"\x0b" + leb(len(data)) + data
    datas = leb(1) + seg
    return (b"\x00asm\x01\x00\x00\x00" + section(1, types) + section(3, funcs) + section(5, memory)
            + section(7, exports) + section(10, code) + section(11, datas))


def main() -> None:
    length, out, facts = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    data = random.Random(length).randbytes(length)
    with open(out, "wb") as f:
        f.write(module(data))
    with open(facts, "w") as f:
        f.write(f"#define DATA_OFFSET {OFFSET}u\n#define DATA_LEN {length}u\n")
        f.write(f"#define FIRST_BYTE {data[0]}\n#define LAST_BYTE {data[-1]}\n")


if __name__ == "__main__":
    main()
