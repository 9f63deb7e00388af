// replygate_sign.go - sign replygate reply addresses and notification
// Message-IDs in Go (SPEC sections 2 and 3; known answers in
// docs/test-vectors.json). Standard library only; copy the functions into
// your application's package.
//
//	keys, err := LoadSecrets("/etc/replygate/secrets")
//	replyTo, err := Sign(keys[0], "i", "1", "5", "reply.example.com")
//	messageID, err := MessageID(keys[0], "i", "1", "5", "reply.example.com", "")
//
// Command line: go run replygate_sign.go SECRETS_FILE DOMAIN KIND TARGET USER [SUFFIX]
// prints the address, or the Message-ID when SUFFIX is given ("-": a fresh one).
// With "--batch" instead of KIND TARGET USER it reads such lines (tab-separated)
// from standard input and prints one line for each: the answer or "error: why".
package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	kindRe   = regexp.MustCompile(`^[a-z]{1,16}$`)
	numberRe = regexp.MustCompile(`^(0|[1-9][0-9]{0,19})$`)
	suffixRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// LoadSecrets returns the keys of a secrets file: one a line, a CR before
// the LF dropped, blank lines and lines starting with '#' skipped, each >= 32 bytes.
func LoadSecrets(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if len(line) < 32 {
			return nil, fmt.Errorf("%s:%d: a secret needs at least 32 bytes", path, i+1)
		}
		keys = append(keys, line)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no secret", path)
	}
	return keys, nil
}

// number checks a decimal target or user: no leading zero, lowest to 2^64-1.
func number(text, what string, lowest uint64) (string, error) {
	n, err := strconv.ParseUint(text, 10, 64)
	if !numberRe.MatchString(text) || err != nil || n < lowest {
		return "", fmt.Errorf("%s must be a decimal number from %d to 2^64-1: %q", what, lowest, text)
	}
	return text, nil
}

// Sign returns the reply address for kind, target and user, signed with key.
func Sign(key []byte, kind, target, user, domain string) (string, error) {
	if !kindRe.MatchString(kind) {
		return "", fmt.Errorf("kind must be 1 to 16 of a-z: %q", kind)
	}
	t, err := number(target, "target", 1)
	if err != nil {
		return "", err
	}
	u, err := number(user, "user", 0)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind + "-" + t + "-" + u))
	mac := hex.EncodeToString(m.Sum(nil))[:40]
	return "reply+" + kind + "-" + t + "-" + mac + "-" + u + "@" + domain, nil
}

// MessageID returns a unique Message-ID (with its angle brackets) naming the
// same key; an empty suffix means a fresh one (UTC time and 64 random bits).
func MessageID(key []byte, kind, target, user, domain, suffix string) (string, error) {
	if suffix == "" {
		random := make([]byte, 8)
		if _, err := rand.Read(random); err != nil {
			return "", err
		}
		suffix = time.Now().UTC().Format("20060102T150405Z") + "." + hex.EncodeToString(random)
	}
	if !suffixRe.MatchString(suffix) {
		return "", fmt.Errorf("the suffix must be 1 to 64 of A-Z a-z 0-9 . _ -: %q", suffix)
	}
	address, err := Sign(key, kind, target, user, domain)
	if err != nil {
		return "", err
	}
	at := strings.LastIndex(address, "@")
	return "<" + address[:at] + "." + suffix + address[at:] + ">", nil
}

// answer is one command line's answer: an address, or a Message-ID with a suffix.
func answer(key []byte, domain string, args []string) (string, error) {
	switch len(args) {
	case 4:
		suffix := args[3]
		if suffix == "-" {
			suffix = ""
		} else if suffix == "" {
			suffix = "\x00" // an empty suffix given on purpose is refused
		}
		return MessageID(key, args[0], args[1], args[2], domain, suffix)
	case 3:
		return Sign(key, args[0], args[1], args[2], domain)
	}
	return "", fmt.Errorf("want KIND TARGET USER [SUFFIX]")
}

func main() {
	args := os.Args[1:]
	batch := len(args) == 3 && args[2] == "--batch"
	if !batch && len(args) != 5 && len(args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: replygate_sign SECRETS_FILE DOMAIN KIND TARGET USER [SUFFIX] | --batch")
		os.Exit(64)
	}
	keys, err := LoadSecrets(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "replygate_sign.go:", err)
		os.Exit(65)
	}
	if !batch {
		out, err := answer(keys[0], args[1], args[2:])
		if err != nil {
			fmt.Fprintln(os.Stderr, "replygate_sign.go:", err)
			os.Exit(65)
		}
		fmt.Println(out)
		return
	}
	input := bufio.NewScanner(os.Stdin)
	for input.Scan() {
		out, err := answer(keys[0], args[1], strings.Split(input.Text(), "\t"))
		if err != nil {
			out = "error: " + err.Error()
		}
		fmt.Println(out)
	}
}
