"""A counting DNS proxy for the SPF benchmark: the same count for every client, taken on the wire.

  dns-count-proxy.py --listen 127.0.0.1:15363 --upstream 127.0.0.1:15353 [--ready FILE]

Forwards every UDP datagram and every TCP-framed message to the upstream server and the answer
back, unchanged, and counts the questions (by type and by transport). On SIGTERM or SIGINT it
prints the counts as one JSON line on stdout and exits. Stdlib only.
"""

import argparse
import asyncio
import collections
import json
import signal
import struct
import sys

counts = collections.Counter()
names = collections.Counter()
QTYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 99: "SPF"}


def note(message: bytes, transport: str) -> None:
    counts["total"] += 1
    counts[transport] += 1
    # Question section: name labels, then type and class (one question per message in practice).
    try:
        i, labels = 12, []
        while message[i]:
            n = message[i]
            labels.append(message[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        qtype = struct.unpack("!H", message[i + 1:i + 3])[0]
        counts[QTYPES.get(qtype, str(qtype))] += 1
        names[f"{QTYPES.get(qtype, qtype)} {'.'.join(labels).lower()}"] += 1
    except (IndexError, struct.error):
        counts["unparsed"] += 1


class Udp(asyncio.DatagramProtocol):
    def __init__(self, upstream):
        self.upstream = upstream

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        note(data, "udp")
        asyncio.ensure_future(self.forward(data, addr))

    async def forward(self, data, addr):
        loop = asyncio.get_running_loop()
        reply = loop.create_future()

        class One(asyncio.DatagramProtocol):
            def datagram_received(self, d, a):
                if not reply.done():
                    reply.set_result(d)

        transport, _ = await loop.create_datagram_endpoint(One, remote_addr=self.upstream)
        try:
            transport.sendto(data)
            self.transport.sendto(await asyncio.wait_for(reply, 5), addr)
        except asyncio.TimeoutError:
            counts["upstream_timeouts"] += 1
        finally:
            transport.close()


async def tcp_client(reader, writer, upstream):
    try:
        up_r, up_w = await asyncio.open_connection(*upstream)
        while True:
            head = await reader.readexactly(2)
            body = await reader.readexactly(struct.unpack("!H", head)[0])
            note(body, "tcp")
            up_w.write(head + body)
            await up_w.drain()
            rhead = await up_r.readexactly(2)
            writer.write(rhead + await up_r.readexactly(struct.unpack("!H", rhead)[0]))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=addr, required=True)
    ap.add_argument("--upstream", type=addr, required=True)
    ap.add_argument("--ready", help="file to create once listening")
    ap.add_argument("--names", action="store_true", help="also print how often each question was asked")
    a = ap.parse_args()
    loop = asyncio.get_running_loop()
    udp, _ = await loop.create_datagram_endpoint(lambda: Udp(a.upstream), local_addr=a.listen)
    tcp = await asyncio.start_server(lambda r, w: tcp_client(r, w, a.upstream), *a.listen)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    if a.ready:
        open(a.ready, "w").close()
    await stop
    udp.close()
    tcp.close()
    out = dict(counts)
    if a.names:
        out["names"] = dict(sorted(names.items()))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
