package pipeline

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Format 4 (innonet-pipeline/4) is the binary snapshot of a cluster at
// log format 2 or later. Its first line is the JSON header of every
// format, which names it, the applied index and how its frames are
// compressed:
//
//	{"format":"innonet-pipeline/4","applied":1234,"codec":"zstd"}\n
//
// Frames follow, each a uvarint length n, n bytes of compressed data and
// the CRC-32C (Castagnoli, 4 bytes little-endian) of the data once
// decompressed; a frame of length 0 ends them, and one newline byte ends
// the snapshot (so that a closing line appended after it, as backups
// have, stands on its own line). The decompressed frames, at most
// maxFrame bytes each, read as one stream of records:
//
//	record  table tag (1 byte, the table's place in wireTables plus one)
//	        uvarint length, then the row: a protobuf message for the
//	        tables of snapshot_rows.go, the row's JSON for the others
//	end     tag 0, then the uvarint number of records before it
//
// Records may span frames. Nothing may follow the end record but the
// terminating frame and newline: a snapshot cut off or padded is
// refused, as a frame whose checksum does not match is.
//
// A snapshot is written by one pass over an immutable view of the state
// (Apply goes on meanwhile), a frame at a time, and read back the same
// way: neither side holds more of the stream than a frame and a few
// batches of rows.
const snapshotFormat4 = "innonet-pipeline/4"

// wireTables numbers the tables in format 4 and orders them in a
// snapshot. Append only: a tag, once given, names its table for good.
var wireTables = []string{tableCounters, tableUsers, tableTokens, tableLeads, tableEvents, tableRequests,
	tableInterests, tableComments, tableSettings, tableSites, tableOrgs, tableAttachments, tableGlossary, tableInvitations, tableProfiles, tableTargets, tableCalendars,
	tablePrefs, tableWebhooks, tableSinks}

const (
	// frameSize is the decompressed size of the frames written (the last
	// may be shorter); maxFrame is the most a reader accepts.
	frameSize = 1 << 20
	maxFrame  = 4 << 20
	// maxRow bounds one row, so that a damaged length cannot make a
	// restore allocate without bound.
	maxRow = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Frame codecs: how the frames of a snapshot are compressed. zstd (at
// its fastest level) is what snapshots are written with; none is what
// the state digests of checkpoints hash (see [Snapshot.WriteCanonical]).
const (
	codecNone = "none"
	codecZstd = "zstd"
)

// snapshotCodec is the codec snapshots are written with.
const snapshotCodec = codecZstd

// frameCodec compresses or decompresses the frames of one snapshot.
type frameCodec interface {
	encode(dst, src []byte) []byte
	// decode decompresses src into dst, refusing more than maxFrame
	// bytes.
	decode(dst, src []byte) ([]byte, error)
	close()
}

func newFrameCodec(name string) (frameCodec, error) {
	switch name {
	case codecNone:
		return plainFrames{}, nil
	case codecZstd:
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxFrame), zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zstdFrames{enc, dec}, nil
	}
	return nil, fmt.Errorf("unknown snapshot codec %q", name)
}

type plainFrames struct{}

func (plainFrames) encode(dst, src []byte) []byte { return append(dst[:0], src...) }

func (plainFrames) decode(dst, src []byte) ([]byte, error) {
	if len(src) > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes is larger than %d", len(src), maxFrame)
	}
	return append(dst[:0], src...), nil
}

func (plainFrames) close() {}

type zstdFrames struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func (z zstdFrames) encode(dst, src []byte) []byte { return z.enc.EncodeAll(src, dst[:0]) }

func (z zstdFrames) decode(dst, src []byte) ([]byte, error) {
	if cap(dst) < maxFrame {
		dst = make([]byte, 0, maxFrame)
	}
	b, err := z.dec.DecodeAll(src, dst[:0])
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	return b, nil
}

func (z zstdFrames) close() {
	_ = z.enc.Close()
	z.dec.Close()
}

// writeV4 writes the snapshot in format 4.
func (sn *Snapshot) writeV4(w io.Writer, codecName string) (int64, error) {
	codec, err := newFrameCodec(codecName)
	if err != nil {
		return 0, fmt.Errorf("write snapshot: %w", err)
	}
	defer codec.close()
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	line, err := json.Marshal(record{Format: snapshotFormat4, Applied: sn.applied, Codec: codecName})
	if err != nil {
		return 0, fmt.Errorf("write snapshot header: %w", err)
	}
	if _, err := bw.Write(append(line, '\n')); err != nil {
		return cw.n, fmt.Errorf("write snapshot header: %w", err)
	}
	fw := &frameWriter{w: bw, codec: codec, raw: make([]byte, 0, frameSize)}
	var e wireEncoder
	var rows int64
	for i, table := range wireTables {
		it, err := rowsOf(sn.txn, table, "")
		if err != nil {
			return cw.n, fmt.Errorf("snapshot %s: %w", table, err)
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			e.b = e.b[:0]
			switch v := raw.(type) {
			case *Lead:
				e.lead(v)
			case *Event:
				e.event(v)
			case *request:
				err = e.request(v)
			case *counter:
				e.counter(v)
			default:
				e.b, err = appendJSON(e.b, raw)
			}
			if err != nil {
				return cw.n, fmt.Errorf("snapshot %s: %w", table, err)
			}
			fw.record(byte(i+1), e.b)
			rows++
		}
		if fw.err != nil {
			return cw.n, fmt.Errorf("write snapshot: %w", fw.err)
		}
	}
	fw.end(rows)
	if fw.err == nil {
		fw.err = bw.Flush()
	}
	if fw.err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", fw.err)
	}
	return cw.n, nil
}

func appendJSON(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	return append(b, j...), err
}

// frameWriter cuts the record stream into frames.
type frameWriter struct {
	w     io.Writer
	codec frameCodec
	raw   []byte // the frame being filled
	out   []byte // its compressed form
	err   error
}

func (fw *frameWriter) write(p []byte) {
	for len(p) > 0 && fw.err == nil {
		n := min(frameSize-len(fw.raw), len(p))
		fw.raw = append(fw.raw, p[:n]...)
		p = p[n:]
		if len(fw.raw) == frameSize {
			fw.flush()
		}
	}
}

func (fw *frameWriter) record(tag byte, row []byte) {
	var head [1 + binary.MaxVarintLen64]byte
	head[0] = tag
	n := binary.PutUvarint(head[1:], uint64(len(row)))
	fw.write(head[:1+n])
	fw.write(row)
}

func (fw *frameWriter) end(rows int64) {
	var head [1 + binary.MaxVarintLen64]byte
	n := binary.PutUvarint(head[1:], uint64(rows))
	fw.write(head[:1+n])
	fw.flush()
	if fw.err == nil {
		_, fw.err = fw.w.Write([]byte{0, '\n'})
	}
}

func (fw *frameWriter) flush() {
	if len(fw.raw) == 0 || fw.err != nil {
		return
	}
	fw.out = fw.codec.encode(fw.out, fw.raw)
	var head [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(head[:], uint64(len(fw.out)))
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc32.Checksum(fw.raw, castagnoli))
	for _, b := range [][]byte{head[:n], fw.out, sum[:]} {
		if _, err := fw.w.Write(b); err != nil {
			fw.err = err
			return
		}
	}
	fw.raw = fw.raw[:0]
}

// frameReader reads the record stream back from the frames.
type frameReader struct {
	r     *bufio.Reader
	codec frameCodec
	buf   []byte // the current frame, decompressed
	pos   int
	comp  []byte
	// frames counts the frames read, for errors.
	frames int
	done   bool // the terminating frame was read
}

// fill reads the next frame; at the terminating one it returns io.EOF.
func (fr *frameReader) fill() error {
	if fr.done {
		return io.EOF
	}
	n, err := binary.ReadUvarint(fr.r)
	if err != nil {
		return fmt.Errorf("frame %d: %w", fr.frames+1, unexpectedEOF(err))
	}
	if n == 0 {
		fr.done = true
		return io.EOF
	}
	if n > maxFrame+maxFrame/8 {
		return fmt.Errorf("frame %d claims %d bytes, more than any writer makes", fr.frames+1, n)
	}
	fr.frames++
	fr.comp = slices.Grow(fr.comp[:0], int(n))[:n]
	if _, err := io.ReadFull(fr.r, fr.comp); err != nil {
		return fmt.Errorf("frame %d: %w", fr.frames, unexpectedEOF(err))
	}
	var sum [4]byte
	if _, err := io.ReadFull(fr.r, sum[:]); err != nil {
		return fmt.Errorf("frame %d: %w", fr.frames, unexpectedEOF(err))
	}
	b, err := fr.codec.decode(fr.buf, fr.comp)
	if err != nil {
		return fmt.Errorf("frame %d: %w", fr.frames, err)
	}
	if crc32.Checksum(b, castagnoli) != binary.LittleEndian.Uint32(sum[:]) {
		return fmt.Errorf("frame %d: checksum mismatch (the snapshot is damaged)", fr.frames)
	}
	fr.buf, fr.pos = b, 0
	return nil
}

func (fr *frameReader) ReadByte() (byte, error) {
	for fr.pos == len(fr.buf) {
		if err := fr.fill(); err != nil {
			return 0, err
		}
	}
	b := fr.buf[fr.pos]
	fr.pos++
	return b, nil
}

func (fr *frameReader) Read(p []byte) (int, error) {
	for fr.pos == len(fr.buf) {
		if err := fr.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, fr.buf[fr.pos:])
	fr.pos += n
	return n, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// restoreV4 reads the frames after the header of a format 4 snapshot. One
// goroutine decodes rows while this one inserts them, a few batches
// apart; the side trees are built at the end ([sideLoader]).
func restoreV4(br *bufio.Reader, head record) (*restoring, error) {
	codec, err := newFrameCodec(head.Codec)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer codec.close()
	batches := make(chan []decodedRow, 4)
	stop := make(chan struct{})
	var decodeErr error
	go func() {
		defer close(batches)
		decodeErr = decodeV4(br, codec, func(b []decodedRow) bool {
			select {
			case batches <- b:
				return true
			case <-stop:
				return false
			}
		})
	}()
	st := newState()
	txn := st.tx
	defer txn.Abort() // after Commit, a no-op
	ld := newSideLoader(txn)
	var insertErr error
	for batch := range batches {
		for _, r := range batch {
			if insertErr != nil {
				break
			}
			if err := ld.insert(r.table, r.obj); err != nil {
				insertErr = fmt.Errorf("restore %s: %w", r.table, err)
				close(stop)
			}
		}
	}
	// The decoder has returned: batches is closed.
	if insertErr != nil {
		return nil, insertErr
	}
	if decodeErr != nil {
		return nil, decodeErr
	}
	if err := ld.finish(); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	txn.Commit()
	return st, nil
}

// decodedRow is a row on its way from the decoder to memdb.
type decodedRow struct {
	table string
	obj   any
}

// errStopped says the inserting side stopped the decoder.
var errStopped = errors.New("restore stopped")

// decodeV4 decodes the rows of a snapshot and hands them to emit in
// batches, in the snapshot's order, until emit returns false; then it
// checks that the snapshot ends where it should. This goroutine reads
// the frames and cuts the stream into chunks of rows, which decoders,
// one per CPU, turn into rows; a snapshot's first error in row order is
// the one returned.
func decodeV4(br *bufio.Reader, codec frameCodec, emit func([]decodedRow) bool) error {
	work := make(chan *rawChunk)
	ordered := make(chan *rawChunk, 2*runtime.GOMAXPROCS(0)+2)
	stop := make(chan struct{})
	var decoders sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		decoders.Go(func() {
			var rd rowDecoder
			for c := range work {
				c.decode(&rd)
			}
		})
	}
	var (
		emitErr error // the first row that would not decode, or errStopped
		emitted sync.WaitGroup
	)
	emitted.Go(func() {
		for c := range ordered {
			<-c.done
			if emitErr != nil {
				continue // drain
			}
			if c.err != nil {
				emitErr = c.err
			} else if !emit(c.out) {
				emitErr = errStopped
			}
			if emitErr != nil {
				close(stop)
			}
		}
	})
	readErr := readChunks(br, codec, func(c *rawChunk) bool {
		c.done = make(chan struct{})
		select {
		case ordered <- c:
		case <-stop:
			return false
		}
		work <- c
		return true
	})
	close(work)
	close(ordered)
	decoders.Wait()
	emitted.Wait()
	if emitErr != nil {
		return emitErr
	}
	return readErr
}

// rawChunk is a run of rows as read, then as decoded.
type rawChunk struct {
	data []byte // the rows, end to end
	tags []byte // each row's table tag
	ends []int  // where each row ends in data
	out  []decodedRow
	err  error
	done chan struct{} // closed once out or err is set
}

// Chunks of rows go to the decoders at this many rows or bytes.
const (
	chunkRows  = 512
	chunkBytes = 256 << 10
)

func (c *rawChunk) decode(rd *rowDecoder) {
	defer close(c.done)
	c.out = make([]decodedRow, 0, len(c.tags))
	from := 0
	for i, tag := range c.tags {
		table := wireTables[tag-1]
		obj, err := rd.row(table, c.data[from:c.ends[i]])
		if err != nil {
			c.err = fmt.Errorf("restore %s: %w", table, err)
			return
		}
		from = c.ends[i]
		c.out = append(c.out, decodedRow{table, obj})
	}
}

// readChunks reads the record stream of a snapshot into chunks and hands
// each to send, until send returns false (errStopped) or the end record;
// then it checks that nothing follows it.
func readChunks(br *bufio.Reader, codec frameCodec, send func(*rawChunk) bool) error {
	fr := &frameReader{r: br, codec: codec}
	var rows uint64
	c := &rawChunk{}
	for {
		tag, err := fr.ReadByte()
		if err != nil {
			return fmt.Errorf("restore: after %d rows: %w", rows, unexpectedEOF(err))
		}
		n, err := binary.ReadUvarint(fr)
		if err != nil {
			return fmt.Errorf("restore: after %d rows: %w", rows, unexpectedEOF(err))
		}
		if tag == 0 {
			if n != rows {
				return fmt.Errorf("restore: snapshot has %d rows, its end marker says %d", rows, n)
			}
			break
		}
		if int(tag) > len(wireTables) {
			return fmt.Errorf("restore: unknown table tag %d (written by a newer version of innonet?)", tag)
		}
		if n > maxRow {
			return fmt.Errorf("restore: row %d claims %d bytes", rows+1, n)
		}
		if c.data, err = appendRow(fr, c.data, int(n)); err != nil {
			return fmt.Errorf("restore: row %d: %w", rows+1, err)
		}
		rows++
		c.tags, c.ends = append(c.tags, tag), append(c.ends, len(c.data))
		if len(c.tags) == chunkRows || len(c.data) >= chunkBytes {
			if !send(c) {
				return errStopped
			}
			c = &rawChunk{data: make([]byte, 0, min(2*len(c.data), chunkBytes+chunkBytes/4))}
		}
	}
	if len(c.tags) > 0 && !send(c) {
		return errStopped
	}
	if fr.pos != len(fr.buf) {
		return fmt.Errorf("restore: data after the snapshot's end marker")
	}
	if err := fr.fill(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("a frame after the end marker")
		}
		return fmt.Errorf("restore: after the end marker: %w", err)
	}
	if b, err := br.ReadByte(); err != nil || b != '\n' {
		return fmt.Errorf("restore: the snapshot does not end with its newline (cut off?)")
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("restore: data after the end of the snapshot")
	}
	return nil
}

// appendRow appends n bytes read from r to buf, growing it as the bytes
// arrive rather than trusting n up front.
func appendRow(r io.Reader, buf []byte, n int) ([]byte, error) {
	for end := len(buf) + n; len(buf) < end; {
		k := min(end-len(buf), 1<<20)
		buf = slices.Grow(buf, k)[:len(buf)+k]
		if _, err := io.ReadFull(r, buf[len(buf)-k:]); err != nil {
			return nil, unexpectedEOF(err)
		}
	}
	return buf, nil
}

// row decodes one row of table.
func (rd *rowDecoder) row(table string, b []byte) (any, error) {
	switch table {
	case tableLeads:
		return rd.lead(b)
	case tableEvents:
		return rd.event(b)
	case tableRequests:
		return rd.request(b)
	case tableCounters:
		return rd.counter(b)
	}
	return decodeRow(record{Table: table, Value: b})
}
