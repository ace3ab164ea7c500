package server

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/ossd/ossd/internal/service"
)

// User is one account with one access key.
type User struct {
	ID              string `json:"id"`
	DisplayName     string `json:"displayName"`
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
}

// accounts is the access-key table.
type accounts struct{ byKey map[string]User }

func newAccounts(users []User) (*accounts, error) {
	a := &accounts{byKey: map[string]User{}}
	for _, u := range users {
		if u.ID == "" || u.AccessKeyID == "" || u.AccessKeySecret == "" {
			return nil, fmt.Errorf("user %q: id, accessKeyId and accessKeySecret are required", u.DisplayName)
		}
		if _, dup := a.byKey[u.AccessKeyID]; dup {
			return nil, fmt.Errorf("access key %s is listed twice", u.AccessKeyID)
		}
		if u.DisplayName == "" {
			u.DisplayName = u.ID
		}
		a.byKey[u.AccessKeyID] = u
	}
	return a, nil
}

func (a *accounts) Lookup(ak string) (string, service.Account, bool) {
	u, ok := a.byKey[ak]
	if !ok {
		return "", service.Account{}, false
	}
	return u.AccessKeySecret, service.Account{ID: u.ID, DisplayName: u.DisplayName}, true
}

// LoadUsers reads a --users file: a JSON array of User.
func LoadUsers(path string) ([]User, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read users file: %w", err)
	}
	var users []User
	if err := json.Unmarshal(raw, &users); err != nil {
		return nil, fmt.Errorf("parse users file %s: %w", path, err)
	}
	return users, nil
}

// RootCredentials returns the root account: from the given key pair when
// set, else from <data>/credentials.json, generating and storing one (mode
// 0600) on first start. generated reports a new pair.
func RootCredentials(dataDir, keyID, secret string) (u User, generated bool, err error) {
	path := filepath.Join(dataDir, "credentials.json")
	var stored User
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &stored); err != nil {
			return u, false, fmt.Errorf("parse %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return u, false, fmt.Errorf("read %s: %w", path, err)
	}
	if stored.ID == "" {
		stored.ID = randomDigits(16)
	}
	stored.DisplayName = stored.ID
	if keyID != "" && secret != "" {
		stored.AccessKeyID, stored.AccessKeySecret = keyID, secret
	} else if stored.AccessKeyID == "" {
		stored.AccessKeyID = "LTAI" + randomAlnum(20)
		stored.AccessKeySecret = randomAlnum(30)
		generated = true
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return u, false, err
	}
	out, _ := json.MarshalIndent(stored, "", "  ")
	if err := writeFileAtomic(path, out, 0o600); err != nil {
		return u, false, err
	}
	return stored, generated, nil
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomAlnum(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		b.WriteByte(alnum[k.Int64()])
	}
	return b.String()
}

func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		k, _ := rand.Int(rand.Reader, big.NewInt(10))
		if i == 0 && k.Int64() == 0 {
			k = big.NewInt(1)
		}
		b.WriteByte(byte('0' + k.Int64()))
	}
	return b.String()
}

// writeFileAtomic writes, fsyncs, renames and fsyncs the directory, so a
// crash leaves the old file or the new one, never a torn one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ReadRootCredentials reads <data>/credentials.json without changing it
// (for the `ossd logs` client commands).
func ReadRootCredentials(dataDir string) (User, error) {
	raw, err := os.ReadFile(filepath.Join(dataDir, "credentials.json"))
	if err != nil {
		return User{}, fmt.Errorf("read credentials: %w", err)
	}
	var u User
	if err := json.Unmarshal(raw, &u); err != nil {
		return User{}, fmt.Errorf("parse credentials: %w", err)
	}
	return u, nil
}

// HasAccount reports whether id is one of the accounts: the canonical
// users an S3 ACL grant may name.
func (a *accounts) HasAccount(id string) bool {
	for _, u := range a.byKey {
		if u.ID == id {
			return true
		}
	}
	return false
}
