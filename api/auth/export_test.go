package auth

import "os"

// SetTokensSync replaces how t syncs its file, so a test can hold a sync.
func SetTokensSync(t *Tokens, sync func(*os.File) error) {
	t.smu.Lock()
	defer t.smu.Unlock()
	t.sync = sync
}
