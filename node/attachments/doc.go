// Package attachments keeps the bytes of a site's attachments: pitch
// decks, NDAs, term sheets. The replicated state (node/pipeline) records
// of each attachment only its SHA-256, name, type and size; the bytes are
// derived data that every site holds in a store of its own and fetches
// from its peers, so that neither the Raft log nor the snapshots grow by
// the files.
//
// A [Store] is a directory of files named by their SHA-256
// (<dir>/sha256/ab/abcdef…). [Store.Put] writes a file atomically: into
// <dir>/tmp while hashing it, fsynced, then renamed into place and the
// directory fsynced, so a crash leaves the file whole or absent; a file
// over the size limit, or whose bytes do not match the SHA-256 or size
// the caller expects, is never stored. [Store.Open] checks a file against
// its name before serving it (once per change of the file, remembered
// while the process runs), and moves a damaged one to <dir>/corrupt.
//
// A [Fetcher] makes the store hold what the state names: on every kick
// (after an entry that adds an attachment is applied, after a snapshot is
// restored, at start-up) and every Interval it lists the files the state
// names, fetches those the store lacks from the peers its [Source] names
// (the leader first, then the sites that received the file, then the
// others), checks each against its SHA-256 and size, and retries a file
// that no peer could give with exponential backoff. It also verifies
// every stored file every ScrubInterval (a damaged file is fetched
// again), deletes files no attachment names any more after GCGrace, and
// reports its progress as metrics (innonet_attachments_*).
// [Fetcher.Get] fetches one file now, for a download that cannot wait.
//
// What it does not do: decide who may see a file (the site's API does,
// from the replicated state), speak any protocol (the Source opens a
// peer's copy), or replicate anything itself. A file whose every copy is
// lost is gone: backups of the pipeline do not include the bytes, so an
// operator copies the store directory (or runs `innonet attachment
// export`).
//
// Typical use, by a site:
//
//	st, err := attachments.Open(filepath.Join(dataDir, "attachments"))
//	f := attachments.NewFetcher(st, source, attachments.Config{Logger: log, Metrics: registry})
//	go f.Run(ctx)
//	// after applying an entry that names a new file:
//	f.Kick()
package attachments
