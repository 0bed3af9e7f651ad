/* SPDX-License-Identifier: Apache-2.0 */
/* crypto: key file, HKDF key derivation, look-up hashes, AES-256-GCM sealing, scrypt passwords
 * and randomness, all through OpenSSL 3. */
#include "core/crypto.h"

#include "lib/encoding.h"
#include "core/fdio.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define KEYFILE_RANDOM_BYTES 64
/* Far more than any sane key file; a bigger file is more likely a wrong path than a key. */
#define KEYFILE_MAX 4096
/* What keyfile_weakness looks at. */
#define KEYFILE_CHECK_BYTES CRYPTO_KEYFILE_MIN
#define KEYFILE_MIN_DISTINCT 8
#define KEYFILE_MAX_PERIOD 16

#define SEAL_VERSION 1
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (1 + SEAL_NONCE_LEN + SEAL_TAG_LEN)

#define SCRYPT_LN 15
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_MAXMEM (64u * 1024 * 1024)
#define SCRYPT_SALT_LEN 16
#define SCRYPT_HASH_LEN 32
/* Unpadded base64 lengths of the salt and the hash. */
#define SCRYPT_SALT_B64 BASE64_LEN(SCRYPT_SALT_LEN)
#define SCRYPT_HASH_B64 BASE64_LEN(SCRYPT_HASH_LEN)

static const char hash_key_info[] = "hookgate hash key v1";
static const char enc_key_info[] = "hookgate enc key v1";

/* The void functions below cannot report an error, and their only failure is OpenSSL running
 * out of memory; carrying on with an unset hash would be worse than a crash the master
 * respawns. */
static void crypto_fatal(const char *what)
{
	log_error("crypto: %s failed", what);
	abort();
}

static bool hkdf_derive(const unsigned char *ikm, size_t ikmlen, const char *info,
			unsigned char out[CRYPTO_KEY_LEN])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
		OSSL_PARAM_construct_end(),
	};
	bool ok = ctx && EVP_KDF_derive(ctx, out, CRYPTO_KEY_LEN, params) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

/* A user or group id by name when it has one, else by number. */
static void keyfile_id_name(bool group, unsigned int id, char *buf, size_t len)
{
	const char *name = NULL;
	if (group) {
		const struct group *gr = getgrgid((gid_t)id);
		name = gr ? gr->gr_name : NULL;
	} else {
		const struct passwd *pw = getpwuid((uid_t)id);
		name = pw ? pw->pw_name : NULL;
	}
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%u", id);
}

/* What is wrong with who may read the key file, or NULL. Two layouts are accepted: private to
 * this process's user (0600 owned by it), and a key root keeps for the service's group
 * (root:group 0640, the group this process runs with), which lets the daemon read a key it
 * cannot change. Anything readable by others must be assumed leaked, and a group that may
 * write could replace the key. Root reads either layout whoever the owner. */
static const char *keyfile_mode_problem(const struct stat *st)
{
	mode_t mode = st->st_mode;
	bool root = geteuid() == 0;
	if (mode & S_IROTH)
		return "readable by others";
	if (mode & (S_IWOTH | S_IXOTH))
		return mode & S_IWOTH ? "writable by others" : "executable by others";
	if (mode & (S_IWGRP | S_IXGRP))
		return mode & S_IWGRP ? "writable by its group" : "executable by its group";
	if (mode & S_IRGRP) {
		if (st->st_uid != 0)
			return "readable by its group but not owned by root";
		if (!root && st->st_gid != getegid())
			return "readable by a group this process does not run with";
		return NULL;
	}
	if (!root && st->st_uid != geteuid())
		return "owned by another user";
	return NULL;
}

static bool keyfile_check_mode(const char *path, const struct stat *st, char *err, size_t errlen)
{
	const char *problem = keyfile_mode_problem(st);
	if (problem == NULL)
		return true;
	char owner[64], group[64], user[64], ours[64];
	keyfile_id_name(false, (unsigned int)st->st_uid, owner, sizeof(owner));
	keyfile_id_name(true, (unsigned int)st->st_gid, group, sizeof(group));
	keyfile_id_name(false, (unsigned int)geteuid(), user, sizeof(user));
	keyfile_id_name(true, (unsigned int)getegid(), ours, sizeof(ours));
	snprintf(err, errlen,
		 "secret key file %s is %s (mode %04o, %s:%s); accepted: mode 0600 owned by %s, "
		 "or 0640 owned by root:%s",
		 path, problem, (unsigned int)(st->st_mode & 07777), owner, group, user, ours);
	return false;
}

/* Whether s[0, n) repeats its first p bytes, for some p up to KEYFILE_MAX_PERIOD. */
static bool keyfile_periodic(const unsigned char *s, size_t n)
{
	for (size_t p = 1; p <= KEYFILE_MAX_PERIOD && p < n; p++) {
		size_t i = p;
		while (i < n && s[i] == s[i - p])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* A key file that was typed rather than made: its first KEYFILE_CHECK_BYTES bytes hold fewer
 * than KEYFILE_MIN_DISTINCT byte values ("aaaa…", "abab…"), or repeat a short pattern, in the
 * bytes or in their steps ("0123456789abcdef0123…", "ABCDEFGH…"). keygen's 32 hex digits show
 * about 14 of their 16 values (fewer than 8: one key in 28 million, which keygen redraws);
 * random bytes about 30 of 256. NULL when the key looks random, else what is wrong. */
static const char *keyfile_weakness(const unsigned char *key)
{
	bool seen[256] = { false };
	unsigned char steps[KEYFILE_CHECK_BYTES - 1];
	int distinct = 0;
	for (size_t i = 0; i < KEYFILE_CHECK_BYTES; i++) {
		distinct += !seen[key[i]];
		seen[key[i]] = true;
		if (i > 0)
			steps[i - 1] = (unsigned char)(key[i] - key[i - 1]);
	}
	if (distinct < KEYFILE_MIN_DISTINCT)
		return "too few distinct byte values";
	if (keyfile_periodic(key, KEYFILE_CHECK_BYTES) || keyfile_periodic(steps, sizeof(steps)))
		return "a repeated pattern";
	return NULL;
}

static ssize_t read_all(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Reads the whole file into buf; *len receives its length without a trailing newline. */
static bool keyfile_read(const char *path, unsigned char *buf, size_t *len, char *err,
			 size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open secret key file %s: %s", path, strerror(errno));
		return false;
	}
	struct stat st;
	bool ok = false;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat secret key file %s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secret key file %s is not a regular file", path);
	} else if (keyfile_check_mode(path, &st, err, errlen)) {
		ssize_t n = read_all(fd, buf, KEYFILE_MAX + 1);
		if (n < 0)
			snprintf(err, errlen, "cannot read secret key file %s: %s", path,
				 strerror(errno));
		else if (n > KEYFILE_MAX)
			snprintf(err, errlen, "secret key file %s is too large (over %d bytes)",
				 path, KEYFILE_MAX);
		else
			ok = true;
		*len = n > 0 ? (size_t)n : 0;
	}
	close(fd);
	if (ok && *len > 0 && buf[*len - 1] == '\n')
		(*len)--;
	if (ok && *len > 0 && buf[*len - 1] == '\r')
		(*len)--;
	return ok;
}

bool crypto_load_keys(const char *path, struct crypto_keys *keys, char *err, size_t errlen)
{
	unsigned char buf[KEYFILE_MAX + 1];
	size_t len = 0;
	bool ok = keyfile_read(path, buf, &len, err, errlen);
	if (ok && len < CRYPTO_KEYFILE_MIN) {
		snprintf(err, errlen,
			 "secret key file %s is too short (%zu bytes, need at least %d); "
			 "create one with hookgatectl keygen",
			 path, len, CRYPTO_KEYFILE_MIN);
		ok = false;
	}
	const char *weak = ok ? keyfile_weakness(buf) : NULL;
	if (weak) {
		snprintf(err, errlen,
			 "secret key file %s is not a random key (%s in its first %d bytes); "
			 "create one with hookgatectl keygen",
			 path, weak, KEYFILE_CHECK_BYTES);
		ok = false;
	}
	if (ok && !(hkdf_derive(buf, len, hash_key_info, keys->hash_key) &&
		    hkdf_derive(buf, len, enc_key_info, keys->enc_key))) {
		snprintf(err, errlen, "cannot derive keys from secret key file %s: HKDF failed",
			 path);
		crypto_keys_wipe(keys);
		ok = false;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok;
}

bool crypto_write_keyfile(const char *path, char *err, size_t errlen)
{
	unsigned char raw[KEYFILE_RANDOM_BYTES];
	char text[2 * KEYFILE_RANDOM_BYTES + 2];
	do { /* never a key that crypto_load_keys would refuse */
		if (!crypto_random(raw, sizeof(raw))) {
			snprintf(err, errlen, "cannot get random bytes for %s", path);
			return false;
		}
		hex_encode(raw, sizeof(raw), text);
	} while (keyfile_weakness((const unsigned char *)text) != NULL);
	OPENSSL_cleanse(raw, sizeof(raw));
	text[2 * KEYFILE_RANDOM_BYTES] = '\n';

	/* O_EXCL: an existing key file may be the only thing that can read the stored secrets. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, errlen,
				 "secret key file %s already exists; not overwriting it", path);
		else
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		OPENSSL_cleanse(text, sizeof(text));
		return false;
	}
	/* The umask could have taken the owner bits away, never added any; make it exactly 0600. */
	bool ok = fchmod(fd, 0600) == 0 && fdio_write_all(fd, text, sizeof(text) - 1) &&
		  fsync(fd) == 0;
	int saved = errno;
	OPENSSL_cleanse(text, sizeof(text));
	if (close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(saved));
		unlink(path);
	}
	return ok;
}

void crypto_keys_wipe(struct crypto_keys *keys)
{
	OPENSSL_cleanse(keys, sizeof(*keys));
}

bool crypto_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(p, chunk) != 1)
			return false;
		p += chunk;
		len -= (size_t)chunk;
	}
	return true;
}

/* The NUL after the purpose keeps ("ab", "c...") and ("a", "bc...") apart. */
void crypto_lookup_hash(const struct crypto_keys *keys, const char *purpose, const void *data,
			size_t len, unsigned char out[CRYPTO_HASH_LEN])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	static const unsigned char separator = 0;
	size_t outl = 0;
	bool ok = ctx && EVP_MAC_init(ctx, keys->hash_key, CRYPTO_KEY_LEN, params) == 1 &&
		  EVP_MAC_update(ctx, (const unsigned char *)purpose, strlen(purpose)) == 1 &&
		  EVP_MAC_update(ctx, &separator, 1) == 1 && EVP_MAC_update(ctx, data, len) == 1 &&
		  EVP_MAC_final(ctx, out, &outl, CRYPTO_HASH_LEN) == 1 && outl == CRYPTO_HASH_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok)
		crypto_fatal("HMAC-SHA-256");
}

void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_HASH_LEN])
{
	unsigned int outl = 0;
	if (EVP_Digest(data, len, out, &outl, EVP_sha256(), NULL) != 1 || outl != CRYPTO_HASH_LEN)
		crypto_fatal("SHA-256");
}

size_t crypto_seal_len(size_t plainlen)
{
	return plainlen + SEAL_OVERHEAD;
}

/* The version byte is authenticated along with the caller's aad, so it cannot be swapped. */
static bool gcm_add_aad(EVP_CIPHER_CTX *ctx, const char *aad)
{
	static const unsigned char version = SEAL_VERSION;
	int n;
	if (EVP_CipherUpdate(ctx, NULL, &n, &version, 1) != 1)
		return false;
	if (aad == NULL || aad[0] == '\0')
		return true;
	size_t len = strlen(aad);
	return len <= INT_MAX &&
	       EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)len) == 1;
}

bool crypto_seal(const struct crypto_keys *keys, const char *aad, const void *plain,
		 size_t plainlen, unsigned char *out, size_t outlen)
{
	if (plainlen > INT_MAX - SEAL_OVERHEAD || outlen < crypto_seal_len(plainlen))
		return false;
	unsigned char *nonce = out + 1;
	unsigned char *ct = nonce + SEAL_NONCE_LEN;
	out[0] = SEAL_VERSION;
	if (!crypto_random(nonce, SEAL_NONCE_LEN))
		return false;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;
	bool ok = ctx &&
		  EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, keys->enc_key, nonce) == 1 &&
		  gcm_add_aad(ctx, aad) &&
		  EVP_EncryptUpdate(ctx, ct, &n, plain, (int)plainlen) == 1 &&
		  EVP_EncryptFinal_ex(ctx, ct + n, &fin) == 1 && (size_t)(n + fin) == plainlen &&
		  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + plainlen) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		OPENSSL_cleanse(out, crypto_seal_len(plainlen));
	return ok;
}

bool crypto_open(const struct crypto_keys *keys, const char *aad, const unsigned char *sealed,
		 size_t sealedlen, unsigned char *out, size_t outlen, size_t *plainlen)
{
	if (sealedlen < SEAL_OVERHEAD || sealedlen > INT_MAX || sealed[0] != SEAL_VERSION)
		return false;
	size_t ctlen = sealedlen - SEAL_OVERHEAD;
	if (outlen < ctlen)
		return false;
	const unsigned char *nonce = sealed + 1;
	const unsigned char *ct = nonce + SEAL_NONCE_LEN;
	unsigned char tag[SEAL_TAG_LEN];
	memcpy(tag, ct + ctlen, SEAL_TAG_LEN);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;
	bool ok = ctx &&
		  EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, keys->enc_key, nonce) == 1 &&
		  gcm_add_aad(ctx, aad) && EVP_DecryptUpdate(ctx, out, &n, ct, (int)ctlen) == 1 &&
		  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) == 1 &&
		  EVP_DecryptFinal_ex(ctx, out + n, &fin) == 1 && (size_t)(n + fin) == ctlen;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		/* Never hand out plaintext that failed authentication. */
		OPENSSL_cleanse(out, ctlen);
		return false;
	}
	*plainlen = ctlen;
	return true;
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

/* ---- passwords ---------------------------------------------------------------------------- */

struct scrypt_params {
	unsigned int ln, r, p;
	unsigned char salt[SCRYPT_SALT_LEN];
	unsigned char hash[SCRYPT_HASH_LEN];
};

static bool scrypt_run(const char *password, const struct scrypt_params *sp,
		       unsigned char out[SCRYPT_HASH_LEN])
{
	return EVP_PBE_scrypt(password, strlen(password), sp->salt, SCRYPT_SALT_LEN,
			      (uint64_t)1 << sp->ln, sp->r, sp->p, SCRYPT_MAXMEM, out,
			      SCRYPT_HASH_LEN) == 1;
}

/* Exactly outlen bytes from their unpadded standard base64 (the PHC string format's), in its
 * canonical spelling only, so that a stored hash has exactly one text form. */
static bool b64_decode(const char *text, size_t textlen, unsigned char *out, size_t outlen)
{
	return textlen == BASE64_LEN(outlen) && base64_decode(text, textlen, out, outlen) == outlen;
}

static bool parse_uint(const char **pos, const char *name, unsigned int lo, unsigned int hi,
		       unsigned int *out)
{
	size_t nlen = strlen(name);
	const char *s = *pos;
	if (strncmp(s, name, nlen) != 0 || s[nlen] != '=')
		return false;
	s += nlen + 1;
	unsigned int v = 0;
	int digits = 0;
	for (; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
		v = v * 10 + (unsigned int)(*s - '0');
	if (digits == 0 || (digits > 1 && (*pos)[nlen + 1] == '0') || v < lo || v > hi)
		return false;
	*out = v;
	*pos = s;
	return true;
}

/* "$scrypt$ln=15,r=8,p=1$<salt>$<hash>", parameters bounded so that a tampered row cannot
 * make us spend minutes or gigabytes. */
static bool scrypt_parse(const char *stored, struct scrypt_params *sp)
{
	const char *s = stored;
	if (strncmp(s, "$scrypt$", 8) != 0)
		return false;
	s += 8;
	if (!parse_uint(&s, "ln", 10, 20, &sp->ln) || *s++ != ',' ||
	    !parse_uint(&s, "r", 1, 32, &sp->r) || *s++ != ',' ||
	    !parse_uint(&s, "p", 1, 16, &sp->p) || *s++ != '$')
		return false;
	const char *dollar = strchr(s, '$');
	if (dollar == NULL || !b64_decode(s, (size_t)(dollar - s), sp->salt, SCRYPT_SALT_LEN))
		return false;
	s = dollar + 1;
	return b64_decode(s, strlen(s), sp->hash, SCRYPT_HASH_LEN);
}

bool crypto_password_hash(const char *password, char *out, size_t outlen)
{
	struct scrypt_params sp = { .ln = SCRYPT_LN, .r = SCRYPT_R, .p = SCRYPT_P };
	char salt64[SCRYPT_SALT_B64 + 4], hash64[SCRYPT_HASH_B64 + 4];
	bool ok = password != NULL && crypto_random(sp.salt, sizeof(sp.salt)) &&
		  scrypt_run(password, &sp, sp.hash);
	if (ok) {
		base64_encode(sp.salt, sizeof(sp.salt), salt64, sizeof(salt64));
		base64_encode(sp.hash, sizeof(sp.hash), hash64, sizeof(hash64));
		int n = snprintf(out, outlen, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", sp.ln, sp.r, sp.p,
				 salt64, hash64);
		ok = n > 0 && (size_t)n < outlen;
	}
	OPENSSL_cleanse(&sp, sizeof(sp));
	OPENSSL_cleanse(hash64, sizeof(hash64));
	if (!ok && outlen > 0)
		out[0] = '\0';
	return ok;
}

/* For a NULL stored hash (unknown user) the same work is done against a fixed dummy, so the
 * response time does not tell whether the login exists. */
bool crypto_password_verify(const char *password, const char *stored)
{
	struct scrypt_params sp = { .ln = SCRYPT_LN, .r = SCRYPT_R, .p = SCRYPT_P };
	unsigned char computed[SCRYPT_HASH_LEN];
	bool real = stored != NULL;
	if (real && !scrypt_parse(stored, &sp))
		return false;
	bool ok = scrypt_run(password ? password : "", &sp, computed) &&
		  CRYPTO_memcmp(computed, sp.hash, SCRYPT_HASH_LEN) == 0;
	OPENSSL_cleanse(computed, sizeof(computed));
	OPENSSL_cleanse(&sp, sizeof(sp));
	return ok && real && password != NULL;
}
