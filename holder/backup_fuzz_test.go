package holder

import "testing"

// FuzzParseBackup: whatever the file, reading its envelope returns a
// plain error or parameters within the bounds, never a panic.
func FuzzParseBackup(f *testing.F) {
	f.Add([]byte(`{"format":"tally-wallet-backup","v":1,"kdf":{"alg":"argon2id","t":3,"m":65536,"p":4,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="},"cipher":"A256GCM","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}`))
	f.Add([]byte(`{"format":"tally-wallet-backup","v":1,"kdf":{"alg":"argon2id","t":4294967295,"m":4294967295,"p":255,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="},"cipher":"A256GCM","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}`))
	f.Add([]byte(`{"format":"tally-wallet-backup","v":2}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"format":"tally-wallet-backup"} {}`))
	f.Fuzz(func(t *testing.T, file []byte) {
		b, err := parseBackup(file)
		if err != nil {
			return
		}
		if b.KDF.Time > maxBackupKDFTime || b.KDF.MemoryKiB > maxBackupKDFMemoryKiB || b.KDF.Threads > maxKDFThreads || len(b.Nonce) != 12 {
			t.Fatalf("parameters out of bounds accepted: %+v", b.KDF)
		}
		_ = b.aad()
	})
}
