/*
 * A strict reader for the protobuf wire format, enough to decode OTLP's ExportTraceServiceRequest
 * (opentelemetry-proto, trace/v1 and common/v1). Every read is bounds-checked and throws
 * ProtobufError on truncated or malformed input, which the OTLP receiver turns into a 400.
 */

export class ProtobufError extends Error {}

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export class ProtoReader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array, private readonly end = buf.length) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  tag(): { field: number; wire: number } {
    const key = this.varint();
    const field = Number(key >> 3n);
    if (field === 0) throw new ProtobufError(`invalid field number 0 at byte ${this.pos}`);
    return { field, wire: Number(key & 7n) };
  }

  /** A varint as a bigint (int64/uint64 need all 64 bits). */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint");
      const byte = this.buf[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new ProtobufError("varint longer than 10 bytes");
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.varint());
  }

  fixed64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  fixed32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  bytes(): Uint8Array {
    const length = Number(this.varint());
    this.need(length);
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  string(): string {
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes());
  }

  /** A reader over an embedded message. */
  message(): ProtoReader {
    const bytes = this.bytes();
    return new ProtoReader(bytes);
  }

  skip(wire: number): void {
    if (wire === WIRE.varint) this.varint();
    else if (wire === WIRE.fixed64) this.pos += this.need(8);
    else if (wire === WIRE.bytes) this.bytes();
    else if (wire === WIRE.fixed32) this.pos += this.need(4);
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }

  /** Throws unless the field has the wire type its schema declares. */
  expect(field: number, wire: number, want: number): void {
    if (wire !== want) throw new ProtobufError(`field ${field}: wire type ${wire}, expected ${want}`);
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.end) throw new ProtobufError(`truncated message: needs ${n} bytes at ${this.pos} of ${this.end}`);
    return n;
  }
}
