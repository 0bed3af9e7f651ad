/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/crypto.c: key file handling, HKDF, look-up hashes, sealing, passwords.
 * Key files live in a mkdtemp directory per test case; the fixture is unchecked so that it runs
 * in the parent process and cleans up even after a failed (forked) test. */
#include "suites.h"

#include "core/crypto.h"
#include "lib/encoding.h"

#include <dirent.h>
#include <grp.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[PATH_MAX];

static void tmpdir_setup(void)
{
	const char *base = getenv("TMPDIR");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/hg-crypto-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmpdir_teardown(void)
{
	DIR *d = opendir(tmpdir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	rmdir(tmpdir);
}

static const char *tmp_path(const char *name)
{
	static char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* Writes content to tmpdir/name with exactly the given mode, whatever the umask. */
static const char *write_file(const char *name, const char *content, size_t len, mode_t mode)
{
	const char *path = tmp_path(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void load_ok(const char *path, struct crypto_keys *keys)
{
	char err[512] = "";
	ck_assert_msg(crypto_load_keys(path, keys, err, sizeof(err)), "load failed: %s", err);
}

/* 64 bytes of key file text; the expected values come from an independent Python HKDF/HMAC. */
#define FIXED_KEY "7f3a9c02e4b6d81f5a0c3e97b2d4f6a18e5c07b9d3f1a2c4e6b8d0f2a4c6e8b1"
#define FIXED_HASH_KEY "a0ba64f50ea1499c6b567d6697e8542d1e183e53619d903cf46bf0721d4bfbdf"
#define FIXED_ENC_KEY "bf3f0f4b97ef0c0ea2ac5cd23b0912085b251884f856f62d2bba26eb48d6f17e"
#define FIXED_LOOKUP "c92d58a9520ff0d2928f47ac921d9c8621f048d0f566f7ef44c6e2fec71fd27d"

static void fixed_keys(struct crypto_keys *keys)
{
	load_ok(write_file("fixed.key", FIXED_KEY "\n", 65, 0600), keys);
}

static void other_keys(struct crypto_keys *keys)
{
	char err[256];
	unlink(tmp_path("other.key"));
	ck_assert(crypto_write_keyfile(tmp_path("other.key"), err, sizeof(err)));
	load_ok(tmp_path("other.key"), keys);
}

/* ---- key file ---------------------------------------------------------------------------- */

START_TEST(test_keygen_creates_0600)
{
	char err[512] = "", text[256];
	struct stat st;
	const char *path = tmp_path("new.key");
	ck_assert_msg(crypto_write_keyfile(path, err, sizeof(err)), "keygen: %s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, 129);

	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
	fclose(f);
	unsigned char raw[64];
	ck_assert_uint_eq(strlen(text), 129);
	ck_assert_int_eq(text[128], '\n');
	ck_assert(hex_decode(text, 128, raw, sizeof(raw)));

	struct crypto_keys keys;
	load_ok(path, &keys);
}
END_TEST

START_TEST(test_keygen_under_umask)
{
	char err[512] = "";
	struct stat st;
	mode_t old = umask(0777);
	bool ok = crypto_write_keyfile(tmp_path("umask.key"), err, sizeof(err));
	umask(old);
	ck_assert_msg(ok, "keygen: %s", err);
	ck_assert_int_eq(stat(tmp_path("umask.key"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(test_keygen_refuses_overwrite)
{
	char err[512] = "";
	const char *path = write_file("exists.key", "precious", 8, 0600);
	ck_assert(!crypto_write_keyfile(path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "already exists"));
	char buf[16] = "";
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_str_eq(buf, "precious");
}
END_TEST

START_TEST(test_keygen_bad_directory)
{
	char err[512] = "";
	ck_assert(!crypto_write_keyfile(tmp_path("missing-dir/x.key"), err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "cannot create"));
}
END_TEST

/* 0640 is missing: it is the root:group layout, tested below. */
static const mode_t open_modes[] = { 0644, 0604, 0660, 0602, 0620, 0610, 0601 };

START_TEST(test_load_refuses_open_mode)
{
	char err[512] = "", expect[24];
	struct crypto_keys keys;
	const char *path = write_file("open.key", FIXED_KEY "\n", 65, open_modes[_i]);
	ck_assert(!crypto_load_keys(path, &keys, err, sizeof(err)));
	snprintf(expect, sizeof(expect), "(mode %04o, ", (unsigned int)open_modes[_i]);
	ck_assert_msg(strstr(err, expect) != NULL, "message: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "accepted: mode 0600 owned by "));
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_null(strstr(err, FIXED_KEY));
}
END_TEST

START_TEST(test_load_mode_0644_message)
{
	char err[512] = "", expect[PATH_MAX + 128];
	struct crypto_keys keys;
	const char *path = write_file("world.key", FIXED_KEY "\n", 65, 0644);
	ck_assert(!crypto_load_keys(path, &keys, err, sizeof(err)));
	snprintf(expect, sizeof(expect), "secret key file %s is readable by others (mode 0644, ",
		 path);
	ck_assert_msg(strncmp(err, expect, strlen(expect)) == 0, "message: %s", err);
	ck_assert_msg(strstr(err, "; accepted: mode 0600 owned by ") != NULL, "message: %s", err);
	ck_assert_msg(strstr(err, ", or 0640 owned by root:") != NULL, "message: %s", err);
}
END_TEST

/* The packaged layout: root:hookgate 0640, read by the daemon running as a user of that group.
 * Needs root to make the owners; the test runs forked, so changing ids stays in it. */
#define NOBODY 65534
/* Back to root after a test ran as NOBODY: a change of effective user leaves the process not
 * dumpable, and LeakSanitizer, which reads it through ptrace at exit, then fails it. */
static void back_to_root(void)
{
	ck_assert_int_eq(seteuid(0), 0);
	ck_assert_int_eq(setegid(0), 0);
	ck_assert_int_eq(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
}

START_TEST(test_load_root_group_layout)
{
	struct crypto_keys keys;
	char err[512] = "";
	if (geteuid() != 0)
		return;
	ck_assert_int_eq(chmod(tmpdir, 0711), 0); /* mkdtemp's 0700 would stop NOBODY first */
	const char *path = write_file("group.key", FIXED_KEY "\n", 65, 0640);
	ck_assert_int_eq(chown(path, 0, NOBODY), 0);
	ck_assert_int_eq(setegid(NOBODY), 0);
	ck_assert_int_eq(seteuid(NOBODY), 0);
	load_ok(path, &keys);
	crypto_keys_wipe(&keys);
	ck_assert_int_eq(seteuid(0), 0);
	/* the same file, but not owned by root: its owner could change it for the group */
	ck_assert_int_eq(chown(path, NOBODY, NOBODY), 0);
	ck_assert_int_eq(seteuid(NOBODY), 0);
	ck_assert(!crypto_load_keys(path, &keys, err, sizeof(err)));
	ck_assert_msg(strstr(err, "not owned by root (mode 0640, ") != NULL, "message: %s", err);
	back_to_root();
}
END_TEST

/* Group-readable for a group that is not the process's own (reached here through a
 * supplementary group): refused, naming the layouts it would take. */
START_TEST(test_load_foreign_owner_or_group)
{
	struct crypto_keys keys;
	char err[512] = "";
	if (geteuid() != 0)
		return;
	const gid_t other = NOBODY - 1;
	ck_assert_int_eq(chmod(tmpdir, 0711), 0);
	const char *path = write_file("other.key", FIXED_KEY "\n", 65, 0640);
	ck_assert_int_eq(chown(path, 0, other), 0);
	ck_assert_int_eq(setgroups(1, &other), 0);
	ck_assert_int_eq(setegid(NOBODY), 0);
	ck_assert_int_eq(seteuid(NOBODY), 0);
	ck_assert(!crypto_load_keys(path, &keys, err, sizeof(err)));
	ck_assert_msg(strstr(err, "does not run with") != NULL, "message: %s", err);
	ck_assert_msg(strstr(err, "or 0640 owned by root:nogroup") != NULL, "message: %s", err);
	back_to_root();
}
END_TEST

START_TEST(test_load_short_file)
{
	char err[512] = "";
	struct crypto_keys keys;
	/* 31 bytes plus a newline is too short, the newline does not count */
	const char *path = write_file("short.key", "7f3a9c02e4b6d81f5a0c3e97b2d4f6a\n", 32, 0600);
	ck_assert(!crypto_load_keys(path, &keys, err, sizeof(err)));
	ck_assert_msg(strstr(err, "too short") != NULL, "message: %s", err);
	path = write_file("empty.key", "", 0, 0400);
	ck_assert(!crypto_load_keys(path, &keys, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "too short"));
	/* exactly 32 bytes is enough, with or without a newline */
	load_ok(write_file("min.key", "7f3a9c02e4b6d81f5a0c3e97b2d4f6a1", 32, 0600), &keys);
	load_ok(write_file("min2.key", "7f3a9c02e4b6d81f5a0c3e97b2d4f6a1\n", 33, 0400), &keys);
}
END_TEST

/* Key files typed by hand rather than made by keygen: refused, the message pointing at it. */
START_TEST(test_load_weak_key)
{
	static const struct {
		const char *text, *why;
	} weak[] = {
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too few distinct byte values" },
		{ "passwordpasswordpasswordpasswordpassword", "too few distinct byte values" },
		{ "00000000000000000000000000000001deadbeefcafe", "too few distinct byte values" },
		{ "abcdefghabcdefghabcdefghabcdefgh", "a repeated pattern" },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef", "a repeated pattern" },
		{ "0123456789:;<=>?@ABCDEFGHIJKLMNOP", "a repeated pattern" },
		{ "acegikmoqsuwy{}"
		  "\x7f\x81\x83\x85\x87\x89\x8b\x8d\x8f\x91\x93\x95\x97\x99\x9b\x9d\x9f",
		  "a repeated pattern" },
	};
	struct crypto_keys keys;
	char err[512], expect[PATH_MAX + 256];
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		const char *path = write_file("weak.key", weak[i].text, strlen(weak[i].text), 0600);
		ck_assert_msg(!crypto_load_keys(path, &keys, err, sizeof(err)), "accepted %s",
			      weak[i].text);
		snprintf(expect, sizeof(expect),
			 "secret key file %s is not a random key (%s in its first 32 bytes); "
			 "create one with hookgatectl keygen",
			 path, weak[i].why);
		ck_assert_str_eq(err, expect);
	}
	/* random bytes, not only hex, pass; so does a key whose weak part comes after byte 32 */
	unsigned char raw[48];
	ck_assert(crypto_random(raw, sizeof(raw)));
	load_ok(write_file("raw.key", (const char *)raw, sizeof(raw), 0600), &keys);
	load_ok(write_file("tail.key", FIXED_KEY "aaaaaaaaaaaaaaaaaaaaaaaa", 88, 0600), &keys);
}
END_TEST

/* keygen never writes what load refuses (it redraws the one key in 28 million that would be). */
START_TEST(test_keygen_keys_load)
{
	struct crypto_keys keys;
	char err[256];
	for (int i = 0; i < 20; i++) {
		unlink(tmp_path("many.key"));
		ck_assert_msg(crypto_write_keyfile(tmp_path("many.key"), err, sizeof(err)), "%s",
			      err);
		load_ok(tmp_path("many.key"), &keys);
	}
	unlink(tmp_path("many.key"));
}
END_TEST

START_TEST(test_load_missing_file)
{
	char err[512] = "";
	struct crypto_keys keys;
	ck_assert(!crypto_load_keys(tmp_path("nope.key"), &keys, err, sizeof(err)));
	ck_assert_msg(strstr(err, "cannot open") != NULL, "message: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	ck_assert(!crypto_load_keys(tmpdir, &keys, err, sizeof(err)));
}
END_TEST

/* ---- HKDF and look-up hashes ------------------------------------------------------------- */

START_TEST(test_hkdf_known_answer)
{
	struct crypto_keys keys;
	unsigned char expect[CRYPTO_KEY_LEN];
	fixed_keys(&keys);
	ck_assert(hex_decode(FIXED_HASH_KEY, 64, expect, sizeof(expect)));
	ck_assert_mem_eq(keys.hash_key, expect, CRYPTO_KEY_LEN);
	ck_assert(hex_decode(FIXED_ENC_KEY, 64, expect, sizeof(expect)));
	ck_assert_mem_eq(keys.enc_key, expect, CRYPTO_KEY_LEN);
	/* the trailing newline is not part of the key material */
	struct crypto_keys bare;
	load_ok(write_file("bare.key", FIXED_KEY, 64, 0600), &bare);
	ck_assert_mem_eq(&keys, &bare, sizeof(keys));
}
END_TEST

START_TEST(test_hkdf_keys_independent)
{
	struct crypto_keys a, b;
	fixed_keys(&a);
	other_keys(&b);
	ck_assert(memcmp(a.hash_key, a.enc_key, CRYPTO_KEY_LEN) != 0);
	ck_assert(memcmp(a.hash_key, b.hash_key, CRYPTO_KEY_LEN) != 0);
	ck_assert(memcmp(a.enc_key, b.enc_key, CRYPTO_KEY_LEN) != 0);
	/* one changed byte in the file changes both keys */
	struct crypto_keys c;
	char changed[] = FIXED_KEY;
	changed[0] = '1';
	load_ok(write_file("c.key", changed, 64, 0600), &c);
	ck_assert(memcmp(a.hash_key, c.hash_key, CRYPTO_KEY_LEN) != 0);
	ck_assert(memcmp(a.enc_key, c.enc_key, CRYPTO_KEY_LEN) != 0);
}
END_TEST

START_TEST(test_keys_wipe)
{
	struct crypto_keys keys, zero;
	fixed_keys(&keys);
	memset(&zero, 0, sizeof(zero));
	crypto_keys_wipe(&keys);
	ck_assert_mem_eq(&keys, &zero, sizeof(keys));
}
END_TEST

START_TEST(test_lookup_hash)
{
	struct crypto_keys a, b;
	unsigned char h1[CRYPTO_HASH_LEN], h2[CRYPTO_HASH_LEN], expect[CRYPTO_HASH_LEN];
	fixed_keys(&a);
	other_keys(&b);
	crypto_lookup_hash(&a, "token", "hello", 5, h1);
	ck_assert(hex_decode(FIXED_LOOKUP, 64, expect, sizeof(expect)));
	ck_assert_mem_eq(h1, expect, CRYPTO_HASH_LEN);
	crypto_lookup_hash(&a, "token", "hello", 5, h2);
	ck_assert_mem_eq(h1, h2, CRYPTO_HASH_LEN);
	crypto_lookup_hash(&a, "appkey", "hello", 5, h2);
	ck_assert(memcmp(h1, h2, CRYPTO_HASH_LEN) != 0);
	crypto_lookup_hash(&b, "token", "hello", 5, h2);
	ck_assert(memcmp(h1, h2, CRYPTO_HASH_LEN) != 0);
	crypto_lookup_hash(&a, "token", "hellp", 5, h2);
	ck_assert(memcmp(h1, h2, CRYPTO_HASH_LEN) != 0);
	/* the purpose/data boundary is unambiguous */
	crypto_lookup_hash(&a, "ab", "c", 1, h1);
	crypto_lookup_hash(&a, "a", "bc", 2, h2);
	ck_assert(memcmp(h1, h2, CRYPTO_HASH_LEN) != 0);
}
END_TEST

START_TEST(test_sha256)
{
	unsigned char out[CRYPTO_HASH_LEN];
	char hex[2 * CRYPTO_HASH_LEN + 1];
	crypto_sha256("abc", 3, out);
	hex_encode(out, sizeof(out), hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_random_and_equal)
{
	unsigned char a[32], b[32];
	ck_assert(crypto_random(a, sizeof(a)));
	ck_assert(crypto_random(b, sizeof(b)));
	ck_assert(!crypto_equal(a, b, sizeof(a)));
	memcpy(b, a, sizeof(a));
	ck_assert(crypto_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	ck_assert(!crypto_equal(a, b, sizeof(a)));
	ck_assert(crypto_equal(a, b, 31));
}
END_TEST

/* ---- sealing ----------------------------------------------------------------------------- */

#define PLAIN "hgt_secret-token-text-for-the-test"
#define AAD "token:tk_0123456789abcdef"

static size_t seal_fixed(const struct crypto_keys *keys, unsigned char *sealed, size_t cap)
{
	size_t len = crypto_seal_len(strlen(PLAIN));
	ck_assert_uint_le(len, cap);
	ck_assert(crypto_seal(keys, AAD, PLAIN, strlen(PLAIN), sealed, len));
	return len;
}

START_TEST(test_seal_round_trip)
{
	struct crypto_keys keys;
	unsigned char sealed[128], sealed2[128], out[128];
	size_t plainlen = 0;
	fixed_keys(&keys);
	size_t len = seal_fixed(&keys, sealed, sizeof(sealed));
	ck_assert_uint_eq(len, strlen(PLAIN) + 29);
	ck_assert_uint_eq(sealed[0], 1);
	ck_assert(crypto_open(&keys, AAD, sealed, len, out, sizeof(out), &plainlen));
	ck_assert_uint_eq(plainlen, strlen(PLAIN));
	ck_assert_mem_eq(out, PLAIN, plainlen);
	/* the plaintext does not appear in the sealed form, and the nonce makes each seal new */
	ck_assert_ptr_null(memmem(sealed, len, "secret", 6));
	seal_fixed(&keys, sealed2, sizeof(sealed2));
	ck_assert(memcmp(sealed, sealed2, len) != 0);
}
END_TEST

START_TEST(test_seal_empty_and_null_aad)
{
	struct crypto_keys keys;
	unsigned char sealed[64], out[64];
	size_t plainlen = 99;
	fixed_keys(&keys);
	ck_assert(crypto_seal(&keys, NULL, "", 0, sealed, crypto_seal_len(0)));
	ck_assert(
		crypto_open(&keys, NULL, sealed, crypto_seal_len(0), out, sizeof(out), &plainlen));
	ck_assert_uint_eq(plainlen, 0);
	ck_assert(crypto_open(&keys, "", sealed, crypto_seal_len(0), out, sizeof(out), &plainlen));
	ck_assert(
		!crypto_open(&keys, "x", sealed, crypto_seal_len(0), out, sizeof(out), &plainlen));
}
END_TEST

START_TEST(test_seal_buffer_sizes)
{
	struct crypto_keys keys;
	unsigned char sealed[128], out[128];
	size_t plainlen;
	fixed_keys(&keys);
	size_t need = crypto_seal_len(strlen(PLAIN));
	ck_assert(!crypto_seal(&keys, AAD, PLAIN, strlen(PLAIN), sealed, need - 1));
	size_t len = seal_fixed(&keys, sealed, sizeof(sealed));
	ck_assert(!crypto_open(&keys, AAD, sealed, len, out, strlen(PLAIN) - 1, &plainlen));
	ck_assert(crypto_open(&keys, AAD, sealed, len, out, len, &plainlen));
}
END_TEST

START_TEST(test_open_wrong_aad)
{
	struct crypto_keys keys;
	unsigned char sealed[128], out[128];
	size_t plainlen;
	fixed_keys(&keys);
	size_t len = seal_fixed(&keys, sealed, sizeof(sealed));
	ck_assert(!crypto_open(&keys, "token:tk_0123456789abcdeg", sealed, len, out, sizeof(out),
			       &plainlen));
	ck_assert(!crypto_open(&keys, AAD "x", sealed, len, out, sizeof(out), &plainlen));
	ck_assert(!crypto_open(&keys, NULL, sealed, len, out, sizeof(out), &plainlen));
}
END_TEST

/* Every bit of the version byte, nonce, ciphertext and tag is covered. */
START_TEST(test_open_flipped_bits)
{
	struct crypto_keys keys;
	unsigned char sealed[128], out[128];
	size_t plainlen;
	fixed_keys(&keys);
	size_t len = seal_fixed(&keys, sealed, sizeof(sealed));
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			sealed[i] ^= (unsigned char)(1u << bit);
			ck_assert_msg(
				!crypto_open(&keys, AAD, sealed, len, out, sizeof(out), &plainlen),
				"accepted a flip of byte %zu bit %d", i, bit);
			sealed[i] ^= (unsigned char)(1u << bit);
		}
	}
	ck_assert(crypto_open(&keys, AAD, sealed, len, out, sizeof(out), &plainlen));
}
END_TEST

START_TEST(test_open_truncated)
{
	struct crypto_keys keys;
	unsigned char sealed[128], out[128];
	size_t plainlen;
	fixed_keys(&keys);
	size_t len = seal_fixed(&keys, sealed, sizeof(sealed));
	for (size_t n = 0; n < len; n++)
		ck_assert_msg(!crypto_open(&keys, AAD, sealed, n, out, sizeof(out), &plainlen),
			      "accepted %zu of %zu bytes", n, len);
	/* dropping bytes at the front is no better */
	ck_assert(!crypto_open(&keys, AAD, sealed + 1, len - 1, out, sizeof(out), &plainlen));
}
END_TEST

START_TEST(test_open_other_key)
{
	struct crypto_keys keys, other;
	unsigned char sealed[128], out[128];
	size_t plainlen;
	fixed_keys(&keys);
	other_keys(&other);
	size_t len = seal_fixed(&keys, sealed, sizeof(sealed));
	ck_assert(!crypto_open(&other, AAD, sealed, len, out, sizeof(out), &plainlen));
	/* the hash key is not the encryption key */
	struct crypto_keys swapped = keys;
	memcpy(swapped.enc_key, keys.hash_key, CRYPTO_KEY_LEN);
	ck_assert(!crypto_open(&swapped, AAD, sealed, len, out, sizeof(out), &plainlen));
}
END_TEST

/* ---- passwords --------------------------------------------------------------------------- */

/* Made by Python's hashlib.scrypt, salt bytes 0..15, password "correct horse". */
#define PY_HASH                                                                                    \
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc"

START_TEST(test_password_round_trip)
{
	char stored[CRYPTO_PASSWORD_HASH_MAX], again[CRYPTO_PASSWORD_HASH_MAX];
	ck_assert(crypto_password_hash("correct horse", stored, sizeof(stored)));
	ck_assert_msg(strncmp(stored, "$scrypt$ln=15,r=8,p=1$", 22) == 0, "stored: %s", stored);
	ck_assert_uint_eq(strlen(stored), 22 + 22 + 1 + 43);
	ck_assert_ptr_null(strstr(stored, "correct"));
	ck_assert(crypto_password_verify("correct horse", stored));
	ck_assert(!crypto_password_verify("correct horsf", stored));
	ck_assert(!crypto_password_verify("", stored));
	ck_assert(!crypto_password_verify(NULL, stored));
	/* a new salt every time */
	ck_assert(crypto_password_hash("correct horse", again, sizeof(again)));
	ck_assert_str_ne(stored, again);
	ck_assert(!crypto_password_hash("x", stored, 64));
	ck_assert(!crypto_password_hash(NULL, stored, sizeof(stored)));
}
END_TEST

START_TEST(test_password_interop)
{
	ck_assert(crypto_password_verify("correct horse", PY_HASH));
	ck_assert(!crypto_password_verify("Correct horse", PY_HASH));
}
END_TEST

START_TEST(test_password_null_stored)
{
	ck_assert(!crypto_password_verify("anything", NULL));
	ck_assert(!crypto_password_verify("", NULL));
}
END_TEST

static const char *const malformed[] = {
	"",
	"$scrypt$",
	"correct horse",
	"$2b$12$abcdefghijklmnopqrstuu",
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw",
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$",
	"$scrypt$ln=15,r=8,p=1$$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=15,r=8$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=9,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=21,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=15,r=0,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=15,r=33,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=15,r=8,p=17$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=015,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=-15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=15,p=1,r=8$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0OD$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJ",
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJcA",
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJ=",
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0O w$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0Lbbs_Jc",
	"$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc$",
	"$SCRYPT$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc",
};

START_TEST(test_password_malformed)
{
	ck_assert_msg(!crypto_password_verify("correct horse", malformed[_i]), "accepted %s",
		      malformed[_i]);
}
END_TEST

/* The parameters are bound to the hash: the same salt and hash under other parameters fail. */
START_TEST(test_password_params_bound)
{
	ck_assert(!crypto_password_verify("correct horse",
					  "$scrypt$ln=14,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$"
					  "XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc"));
	ck_assert(!crypto_password_verify("correct horse",
					  "$scrypt$ln=15,r=8,p=2$AAECAwQFBgcICQoLDA0ODw$"
					  "XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc"));
	ck_assert(!crypto_password_verify("correct horse",
					  "$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODx$"
					  "XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc"));
}
END_TEST

Suite *make_suite_crypto(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("keyfile");
	tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_keygen_creates_0600);
	tcase_add_test(tc, test_keygen_under_umask);
	tcase_add_test(tc, test_keygen_refuses_overwrite);
	tcase_add_test(tc, test_keygen_bad_directory);
	tcase_add_loop_test(tc, test_load_refuses_open_mode, 0,
			    (int)(sizeof(open_modes) / sizeof(open_modes[0])));
	tcase_add_test(tc, test_load_mode_0644_message);
	tcase_add_test(tc, test_load_root_group_layout);
	tcase_add_test(tc, test_load_foreign_owner_or_group);
	tcase_add_test(tc, test_load_short_file);
	tcase_add_test(tc, test_load_weak_key);
	tcase_add_test(tc, test_keygen_keys_load);
	tcase_add_test(tc, test_load_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_hkdf_known_answer);
	tcase_add_test(tc, test_hkdf_keys_independent);
	tcase_add_test(tc, test_keys_wipe);
	tcase_add_test(tc, test_lookup_hash);
	tcase_add_test(tc, test_sha256);
	tcase_add_test(tc, test_random_and_equal);
	suite_add_tcase(s, tc);

	tc = tcase_create("seal");
	tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_seal_round_trip);
	tcase_add_test(tc, test_seal_empty_and_null_aad);
	tcase_add_test(tc, test_seal_buffer_sizes);
	tcase_add_test(tc, test_open_wrong_aad);
	tcase_add_test(tc, test_open_flipped_bits);
	tcase_add_test(tc, test_open_truncated);
	tcase_add_test(tc, test_open_other_key);
	suite_add_tcase(s, tc);

	/* scrypt is deliberately slow, more so under the sanitizers */
	tc = tcase_create("password");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_password_round_trip);
	tcase_add_test(tc, test_password_interop);
	tcase_add_test(tc, test_password_null_stored);
	tcase_add_loop_test(tc, test_password_malformed, 0,
			    (int)(sizeof(malformed) / sizeof(malformed[0])));
	tcase_add_test(tc, test_password_params_bound);
	suite_add_tcase(s, tc);
	return s;
}
