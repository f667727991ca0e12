// `ozy dns` as a long-running object: the `/skydns` records mirrored from
// etcd (list + watch) → an index rebuilt on every change → answers over UDP
// and TCP (RFC 1035 §4.2, 2-byte length framing on TCP). The only user of
// dns-packet; answers themselves are dns-answer.ts's (pure).
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Logger } from 'pino';
import type { ClusterStore, DnsRecord, Mirror } from '../store';
import { answerQuestion, buildDnsIndex, type DnsIndex, type DnsRcode, type DnsReply } from './dns-answer';

export interface DnsServerOptions {
  store: ClusterStore;
  /** UDP and TCP, same host and port. */
  host: string;
  port: number;
  zone: string;
  log: Logger;
}

const RCODE: Record<DnsRcode, number> = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
/** Without EDNS, a UDP answer may have 512 bytes (RFC 1035); with it, what the client offers, capped. */
const CLASSIC_UDP_LIMIT = 512;
const OUR_UDP_LIMIT = 1232;
const TCP_IDLE_MS = 10_000;

export class DnsServer {
  private index: DnsIndex;
  private records: Mirror<DnsRecord> | undefined;
  private udp: dgram.Socket | undefined;
  private readonly tcp: net.Server;
  private readonly conns = new Set<net.Socket>();

  constructor(private readonly opts: DnsServerOptions) {
    this.index = buildDnsIndex(new Map(), opts.zone);
    this.tcp = net.createServer((sock) => this.serveTcp(sock));
  }

  /** Reads the records, then listens; resolves with the port in use (UDP and TCP). */
  async start(): Promise<number> {
    this.records = await this.opts.store.mirrorDnsRecords({
      onChange: (revision) => this.rebuild(revision),
      onError: (err) => this.opts.log.warn({ err: err.message }, 'etcd watch trouble (carrying on)'),
    });
    this.rebuild(this.records.revision);
    // TCP first: with port 0 it picks the port, and UDP takes the same number.
    await new Promise<void>((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const port = (this.tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket(net.isIPv6(this.opts.host) ? 'udp6' : 'udp4');
    this.udp = udp;
    udp.on('message', (msg, rinfo) => this.serveUdp(msg, rinfo));
    udp.on('error', (err) => this.opts.log.warn({ err: err.message }, 'udp socket error'));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, this.opts.host, () => resolve());
    });
    return port;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      this.records?.close(),
    ]);
  }

  private rebuild(revision: number): void {
    if (!this.records) return;
    this.index = buildDnsIndex(this.records.values, this.opts.zone, revision);
  }

  private serveUdp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const out = this.respond(msg, 'udp');
    if (out) this.udp?.send(out, rinfo.port, rinfo.address);
  }

  private serveTcp(sock: net.Socket): void {
    this.conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.once('close', () => this.conns.delete(sock));
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const out = this.respond(msg, 'tcp');
        if (!out) return void sock.destroy();
        const framed = Buffer.alloc(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        sock.write(framed);
      }
    });
  }

  /** The encoded response to one message, or undefined when it cannot even be answered with FORMERR. */
  private respond(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      // Too broken to decode: answer FORMERR if at least the id is there.
      if (msg.length < 12) return undefined;
      return formErr(msg.readUInt16BE(0), msg.readUInt16BE(2));
    }
    if (query.type !== 'query') return undefined;
    const flags = query.flags ?? 0;
    const opcode = (flags >> 11) & 0xf;
    const questions = query.questions ?? [];
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;
    let reply: DnsReply;
    if (opcode !== 0) reply = { rcode: 'NOTIMP', answers: [], authorities: [], additionals: [] };
    else if (questions.length !== 1) reply = { rcode: 'FORMERR', answers: [], authorities: [], additionals: [] };
    else reply = answerQuestion(this.index, questions[0]!.name, questions[0]!.type);
    const q = questions[0];
    if (q) this.opts.log.debug({ name: q.name, type: q.type, rcode: reply.rcode, answers: reply.answers.length, transport }, 'dns query');

    const limit = transport === 'tcp' ? 65_535 : opt ? Math.min(Math.max(opt.udpPayloadSize ?? CLASSIC_UDP_LIMIT, CLASSIC_UDP_LIMIT), OUR_UDP_LIMIT) : CLASSIC_UDP_LIMIT;
    const packet = (r: DnsReply, truncated: boolean): dnsPacket.Packet => ({
      type: 'response',
      id: query.id ?? 0,
      flags:
        dnsPacket.AUTHORITATIVE_ANSWER |
        (flags & dnsPacket.RECURSION_DESIRED) |
        (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
        (opcode << 11) |
        RCODE[r.rcode],
      questions,
      answers: r.answers as dnsPacket.Answer[],
      authorities: r.authorities as dnsPacket.Answer[],
      additionals: [
        ...(r.additionals as dnsPacket.Answer[]),
        // EDNS in, EDNS out (RFC 6891): say how much UDP we accept.
        ...(opt ? [{ type: 'OPT', name: '.', udpPayloadSize: OUR_UDP_LIMIT, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } satisfies dnsPacket.OptAnswer] : []),
      ],
    });
    const full = dnsPacket.encode(packet(reply, false));
    if (full.length <= limit) return full;
    // Too big for this UDP client: say so with TC, and it retries over TCP.
    return dnsPacket.encode(packet({ ...reply, answers: [], authorities: [], additionals: [] }, true));
  }
}

function formErr(id: number, queryFlags: number): Buffer {
  return dnsPacket.encode({ type: 'response', id, flags: (queryFlags & dnsPacket.RECURSION_DESIRED) | RCODE.FORMERR, questions: [] });
}
