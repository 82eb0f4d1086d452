package cluster

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Every command entry this package proposes carries a checksum of its
// payload in raft.Log.Extensions, which hashicorp/raft replicates and
// raft-boltdb stores with the entry but neither interprets (as etcd keeps
// a CRC per WAL record). Apply, and the store check at start-up, verify it,
// so a bit that flips on a disk or in transit stops the site (CORRUPT)
// instead of silently changing its state. Older binaries ignore the field,
// and entries they wrote carry none: those are applied unverified.
//
// The extension is one format byte (extCRC32C) followed by the CRC-32C
// (Castagnoli) of Data, big-endian.
const extCRC32C byte = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksumExt returns the extension for an entry's data.
func checksumExt(data []byte) []byte {
	ext := make([]byte, 5)
	ext[0] = extCRC32C
	binary.BigEndian.PutUint32(ext[1:], crc32.Checksum(data, castagnoli))
	return ext
}

// verifyChecksum checks an entry's data against its extension; an entry
// without one passes (written before checksums, or not by this package).
func verifyChecksum(data, ext []byte) error {
	if len(ext) == 0 {
		return nil
	}
	if len(ext) != 5 || ext[0] != extCRC32C {
		return fmt.Errorf("unknown checksum extension (%d bytes, format %d)", len(ext), ext[0])
	}
	want := binary.BigEndian.Uint32(ext[1:])
	if got := crc32.Checksum(data, castagnoli); got != want {
		return fmt.Errorf("checksum mismatch: the entry's data has CRC-32C %08x, its record says %08x", got, want)
	}
	return nil
}
