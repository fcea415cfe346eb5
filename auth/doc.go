// Package auth turns credentials into a chuting.Principal: passwords (argon2id), browser
// sessions (an HttpOnly, Secure, SameSite cookie whose SHA-256 is the stored session ID, plus a
// CSRF token that state-changing requests echo in a header), and API tokens for court
// case-management systems (shown once, stored as SHA-256). It rate-limits sign-in per account
// and per address. What a principal may do is decided elsewhere, in the HTTP adapter's route
// table; this package only says who is calling.
package auth
