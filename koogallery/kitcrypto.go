package koogallery

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // OAEP with SHA-1 is one of the paddings a Java sender may use
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/truewatch-labs/marketplace-go/secret"
)

// RSAPadding is the padding of applicationSync's RSA-encrypted
// clientSecret. KooGallery does not document it: its Java sample calls a
// KeyPairUtil.decrypt whose source is not public. Java's plain "RSA"
// cipher is PKCS#1 v1.5; a modern sender would use OAEP.
type RSAPadding int

const (
	// PaddingAuto (the default) tries, in order, OAEP with SHA-256 (MGF1
	// SHA-256), OAEP with SHA-256 and MGF1 SHA-1 (what Java's
	// "RSA/ECB/OAEPWithSHA-256AndMGF1Padding" does), OAEP with SHA-1, and
	// PKCS#1 v1.5. OAEP's integrity check makes a wrong guess fail rather
	// than yield garbage; PKCS#1 v1.5 goes last because its check is
	// weaker. The kit signature is verified before any decryption, so no
	// one without the kit key can use the answers as a padding oracle.
	PaddingAuto RSAPadding = iota
	// PaddingPKCS1v15 is RSAES-PKCS1-v1_5 (Java "RSA",
	// "RSA/ECB/PKCS1Padding").
	PaddingPKCS1v15
	// PaddingOAEPSHA256 is RSAES-OAEP with SHA-256 and MGF1-SHA-256.
	PaddingOAEPSHA256
	// PaddingOAEPSHA256MGF1SHA1 is RSAES-OAEP with SHA-256 and MGF1-SHA-1
	// (Java's OAEPWithSHA-256AndMGF1Padding default). Decryption only.
	PaddingOAEPSHA256MGF1SHA1
	// PaddingOAEPSHA1 is RSAES-OAEP with SHA-1 (Java
	// "RSA/ECB/OAEPWithSHA-1AndMGF1Padding").
	PaddingOAEPSHA1
)

func (p RSAPadding) String() string {
	switch p {
	case PaddingAuto:
		return "auto"
	case PaddingPKCS1v15:
		return "PKCS#1 v1.5"
	case PaddingOAEPSHA256:
		return "OAEP-SHA256"
	case PaddingOAEPSHA256MGF1SHA1:
		return "OAEP-SHA256/MGF1-SHA1"
	case PaddingOAEPSHA1:
		return "OAEP-SHA1"
	}
	return fmt.Sprintf("RSAPadding(%d)", int(p))
}

func (p RSAPadding) valid() bool { return p >= PaddingAuto && p <= PaddingOAEPSHA1 }

// ErrClientSecret means a clientSecret could not be decrypted: not base64,
// not a ciphertext of this key, or a padding other than the configured
// one. The KitHandler answers it with ResultAppSecretProblem.
var ErrClientSecret = errors.New("koogallery: clientSecret cannot be decrypted")

// DecryptClientSecret decrypts applicationSync's clientSecret: base64
// (standard or URL alphabet, padded or not) of one RSA block, or of
// several blocks of the key's size decrypted one by one and joined (the
// segmented form common in Java RSA utilities).
func DecryptClientSecret(key *rsa.PrivateKey, ciphertext string, padding RSAPadding) (secret.String, error) {
	if key == nil {
		return "", fmt.Errorf("%w: no private key configured", ErrClientSecret)
	}
	if !padding.valid() {
		return "", fmt.Errorf("%w: unknown padding %d", ErrClientSecret, int(padding))
	}
	ct, err := decodeBase64(strings.TrimSpace(ciphertext))
	if err != nil {
		return "", fmt.Errorf("%w: not base64", ErrClientSecret)
	}
	k := key.Size()
	if len(ct) == 0 || len(ct)%k != 0 {
		return "", fmt.Errorf("%w: ciphertext is not a whole number of %d-byte blocks", ErrClientSecret, k)
	}
	var out []byte
	for i := 0; i < len(ct); i += k {
		pt, err := decryptBlock(key, ct[i:i+k], padding)
		if err != nil {
			return "", err
		}
		out = append(out, pt...)
	}
	return secret.String(out), nil
}

func decryptBlock(key *rsa.PrivateKey, block []byte, padding RSAPadding) ([]byte, error) {
	tries := []RSAPadding{padding}
	if padding == PaddingAuto {
		tries = []RSAPadding{PaddingOAEPSHA256, PaddingOAEPSHA256MGF1SHA1, PaddingOAEPSHA1, PaddingPKCS1v15}
	}
	for _, p := range tries {
		var pt []byte
		var err error
		if p == PaddingPKCS1v15 {
			pt, err = rsa.DecryptPKCS1v15(nil, key, block)
		} else {
			pt, err = key.Decrypt(nil, block, oaepOptions(p))
		}
		if err == nil {
			return pt, nil
		}
	}
	return nil, fmt.Errorf("%w: not decryptable with this key and padding %s", ErrClientSecret, padding)
}

func oaepOptions(p RSAPadding) *rsa.OAEPOptions {
	switch p {
	case PaddingOAEPSHA256MGF1SHA1:
		return &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1}
	case PaddingOAEPSHA1:
		return &rsa.OAEPOptions{Hash: crypto.SHA1}
	}
	return &rsa.OAEPOptions{Hash: crypto.SHA256}
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// EncryptClientSecret encrypts a clientSecret as KooGallery sends it in
// applicationSync (standard base64 of one RSA block per chunk of plaintext
// that fits), for tests and for a mock that plays KooGallery. padding must
// be PaddingPKCS1v15, PaddingOAEPSHA256 or PaddingOAEPSHA1.
func EncryptClientSecret(pub *rsa.PublicKey, plaintext secret.String, padding RSAPadding) (string, error) {
	if pub == nil {
		return "", errors.New("koogallery: no public key")
	}
	var h hash.Hash
	limit := pub.Size() - 11
	switch padding {
	case PaddingPKCS1v15:
	case PaddingOAEPSHA256:
		h = sha256.New()
	case PaddingOAEPSHA1:
		h = sha1.New() //nolint:gosec // see import
	default:
		return "", fmt.Errorf("koogallery: cannot encrypt with padding %s", padding)
	}
	if h != nil {
		limit = pub.Size() - 2*h.Size() - 2
	}
	msg := []byte(plaintext.Reveal())
	if len(msg) == 0 {
		return "", errors.New("koogallery: empty client secret")
	}
	var out []byte
	for len(msg) > 0 {
		n := min(len(msg), limit)
		var block []byte
		var err error
		if h == nil {
			block, err = rsa.EncryptPKCS1v15(rand.Reader, pub, msg[:n])
		} else {
			block, err = rsa.EncryptOAEP(h, rand.Reader, pub, msg[:n], nil)
		}
		if err != nil {
			return "", fmt.Errorf("koogallery: encrypt client secret: %w", err)
		}
		out = append(out, block...)
		msg = msg[n:]
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// ParseRSAPrivateKey reads the vendor's RSA private key: PEM ("PRIVATE
// KEY" PKCS#8 or "RSA PRIVATE KEY" PKCS#1), or the bare base64 of the DER
// that Java tools print (PKCS#8 or PKCS#1).
func ParseRSAPrivateKey(data []byte) (*rsa.PrivateKey, error) {
	der := data
	if block, _ := pem.Decode(data); block != nil {
		der = block.Bytes
	} else if b, err := decodeBase64(strings.Join(strings.Fields(string(data)), "")); err == nil {
		der = b
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("koogallery: private key is not an RSA key")
		}
		return rk, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("koogallery: not an RSA private key in PEM, PKCS#8 or PKCS#1 form")
}
