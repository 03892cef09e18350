// Package approle is an empty stand-in: upstream requires github.com/openbao/openbao/api/auth/approle/v2 v2.0.0,
// a version that was never published. Only upstream test files import it; the bao binary does not.
package approle
