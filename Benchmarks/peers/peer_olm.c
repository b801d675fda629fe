/*
 * peer_olm.c: libolm (Debian's libolm-dev) doing what swift-e2ee's bench rows
 * do, for `scripts/bench.sh --peers`. Olm is Matrix's Double Ratchet with a
 * triple-DH setup (no signed prekey), Megolm its group ratchet; its messages
 * and pickles are base64, so sizes are reported as the bytes they decode to.
 * Every decryption is checked against its plaintext: a harness that does not
 * really work exits 1 before printing any figure.
 */
#include "peer_bench.h"

#include <olm/inbound_group_session.h>
#include <olm/olm.h>
#include <olm/outbound_group_session.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_B64 43   /* a Curve25519 key in unpadded base64 */
#define OTK_PER_ACCOUNT 100

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        peer_fail("out of memory");
    }
    return p;
}

static int
failed(size_t rc)
{
    return rc == olm_error();
}

static void *
random_bytes(size_t n)
{
    void *r = xmalloc(n);
    peer_random(r, n);
    return r;
}

static OlmAccount *
new_account(void)
{
    OlmAccount *a = olm_account(xmalloc(olm_account_size()));
    size_t n = olm_create_account_random_length(a);
    void *r = random_bytes(n);
    if (failed(olm_create_account(a, r, n))) {
        peer_fail("olm_create_account");
    }
    free(r);
    return a;
}

static void
free_account(OlmAccount *a)
{
    olm_clear_account(a);
    free(a);
}

/* The first "key":"value" string after `after` in JSON; writes KEY_B64 chars. */
static const char *
json_string_after(const char *json, const char *after, char out[KEY_B64 + 1])
{
    const char *p = strstr(json, after);
    if (p == NULL) {
        return NULL;
    }
    p += strlen(after);
    p = strchr(p, ':');
    if (p == NULL || (p = strchr(p, '"')) == NULL) {
        return NULL;
    }
    p++;
    if (strlen(p) < KEY_B64 || p[KEY_B64] != '"') {
        return NULL;
    }
    memcpy(out, p, KEY_B64);
    out[KEY_B64] = 0;
    return p + KEY_B64 + 1;
}

/* The account's Curve25519 identity key. */
static void
identity_key(OlmAccount *a, char out[KEY_B64 + 1])
{
    size_t n = olm_account_identity_keys_length(a);
    char *json = xmalloc(n + 1);
    if (failed(olm_account_identity_keys(a, json, n))) {
        peer_fail("olm_account_identity_keys");
    }
    json[n] = 0;
    if (json_string_after(json, "\"curve25519\"", out) == NULL) {
        peer_fail("identity keys JSON");
    }
    free(json);
}

/* Generates `count` one-time keys and returns them (count × KEY_B64+1 chars). */
static char *
one_time_keys(OlmAccount *a, size_t count)
{
    size_t rn = olm_account_generate_one_time_keys_random_length(a, count);
    void *r = random_bytes(rn);
    if (failed(olm_account_generate_one_time_keys(a, count, r, rn))) {
        peer_fail("olm_account_generate_one_time_keys");
    }
    free(r);
    size_t n = olm_account_one_time_keys_length(a);
    char *json = xmalloc(n + 1);
    if (failed(olm_account_one_time_keys(a, json, n))) {
        peer_fail("olm_account_one_time_keys");
    }
    json[n] = 0;
    olm_account_mark_keys_as_published(a);
    char *keys = xmalloc(count * (KEY_B64 + 1));
    /* {"curve25519":{"AAAAAQ":"key",...}}: each value is the string after a key id. */
    const char *p = strchr(json, '{');
    p = p ? strchr(p + 1, '{') : NULL;
    for (size_t i = 0; i < count; i++) {
        if (p == NULL || (p = json_string_after(p, "\"", keys + i * (KEY_B64 + 1))) == NULL) {
            peer_fail("one-time keys JSON");
        }
    }
    free(json);
    return keys;
}

/* ---- a session pair ------------------------------------------------------ */

static OlmSession *
new_session(void)
{
    return olm_session(xmalloc(olm_session_size()));
}

static void
free_session(OlmSession *s)
{
    olm_clear_session(s);
    free(s);
}

/* Encrypts pt; returns the message (base64) and its type. */
static char *
encrypt(OlmSession *s, const uint8_t *pt, size_t len, size_t *msg_len, size_t *type)
{
    size_t rn = olm_encrypt_random_length(s);
    void *r = rn ? random_bytes(rn) : NULL;
    *type = olm_encrypt_message_type(s);
    *msg_len = olm_encrypt_message_length(s, len);
    char *m = xmalloc(*msg_len);
    if (failed(olm_encrypt(s, pt, len, r, rn, m, *msg_len))) {
        peer_fail("olm_encrypt");
    }
    free(r);
    return m;
}

/* Decrypts a message (destroyed: libolm decodes base64 in place) and checks it. */
static void
decrypt_check(OlmSession *s, size_t type, char *m, size_t m_len, const uint8_t *expect, size_t len)
{
    /* max_plaintext_length also decodes in place: it gets a copy. */
    char *copy = xmalloc(m_len);
    memcpy(copy, m, m_len);
    size_t max = olm_decrypt_max_plaintext_length(s, type, copy, m_len);
    free(copy);
    if (failed(max)) {
        peer_fail("olm_decrypt_max_plaintext_length");
    }
    uint8_t *pt = xmalloc(max);
    size_t n = olm_decrypt(s, type, m, m_len, pt, max);
    if (failed(n) || n != len || memcmp(pt, expect, len) != 0) {
        peer_fail("olm_decrypt: wrong plaintext");
    }
    free(pt);
}

/* An outbound session from `from` to the account with Curve25519 identity
 * key `their_id`, using its one-time key `otk` (both base64). */
static OlmSession *
outbound_session(OlmAccount *from, const char *their_id, const char *otk)
{
    OlmSession *s = new_session();
    size_t rn = olm_create_outbound_session_random_length(s);
    void *r = random_bytes(rn);
    if (failed(olm_create_outbound_session(s, from, their_id, KEY_B64, otk, KEY_B64, r, rn))) {
        peer_fail("olm_create_outbound_session");
    }
    free(r);
    return s;
}

/* The inbound session a pre-key message opens (from a copy: libolm decodes
 * the message in place, and it is decrypted after). */
static OlmSession *
inbound_session(OlmAccount *to, const char *m, size_t len)
{
    OlmSession *s = new_session();
    char *copy = xmalloc(len);
    memcpy(copy, m, len);
    if (failed(olm_create_inbound_session(s, to, copy, len))) {
        peer_fail("olm_create_inbound_session");
    }
    free(copy);
    return s;
}

/* Alice and Bob after an Olm setup and one message each way. */
typedef struct {
    OlmAccount *alice_account, *bob_account;
    OlmSession *alice, *bob;
} pair;

static void
make_pair(pair *p)
{
    char bob_id[KEY_B64 + 1];
    uint8_t pt[100];
    size_t len, type;

    p->alice_account = new_account();
    p->bob_account = new_account();
    identity_key(p->bob_account, bob_id);
    char *otk = one_time_keys(p->bob_account, 1);
    p->alice = outbound_session(p->alice_account, bob_id, otk);
    free(otk);
    peer_random(pt, sizeof pt);
    char *m = encrypt(p->alice, pt, sizeof pt, &len, &type);
    p->bob = inbound_session(p->bob_account, m, len);
    decrypt_check(p->bob, type, m, len, pt, sizeof pt);
    free(m);
    olm_remove_one_time_keys(p->bob_account, p->bob);
    m = encrypt(p->bob, pt, sizeof pt, &len, &type);
    decrypt_check(p->alice, type, m, len, pt, sizeof pt);
    free(m);
}

/* ---- setup pair ------------------------------------------------------------ */

typedef struct {
    OlmAccount *alice;
    char bob_id[KEY_B64 + 1];
    OlmAccount *bob;
    char *keys;          /* one-time keys for the next run */
    size_t key_count;
    uint8_t pt[100];
} setup_ctx;

static int
setup_prepare(void *vctx, size_t n)
{
    setup_ctx *c = vctx;
    /* A fresh recipient account per run (untimed): an account holds at most
     * OTK_PER_ACCOUNT keys, so runs longer than that reuse them round-robin. */
    if (c->bob != NULL) {
        free_account(c->bob);
    }
    free(c->keys);
    c->bob = new_account();
    identity_key(c->bob, c->bob_id);
    c->key_count = n < OTK_PER_ACCOUNT ? n : OTK_PER_ACCOUNT;
    c->keys = one_time_keys(c->bob, c->key_count);
    return 0;
}

static int
setup_run(void *vctx, size_t n)
{
    setup_ctx *c = vctx;
    size_t len, type;
    for (size_t i = 0; i < n; i++) {
        const char *otk = c->keys + (i % c->key_count) * (KEY_B64 + 1);
        OlmSession *a = outbound_session(c->alice, c->bob_id, otk);
        char *m = encrypt(a, c->pt, sizeof c->pt, &len, &type);
        OlmSession *b = inbound_session(c->bob, m, len);
        decrypt_check(b, type, m, len, c->pt, sizeof c->pt);
        /* Round-robin reuse keeps keys: removal only when each is used once. */
        if (n <= OTK_PER_ACCOUNT) {
            olm_remove_one_time_keys(c->bob, b);
        }
        free(m);
        free_session(a);
        free_session(b);
    }
    return 0;
}

/* ---- one direction ----------------------------------------------------------- */

typedef struct {
    pair p;
    size_t size;
    uint8_t *pt;
    char **msgs;
    size_t *lens, *types, count;
} msg_ctx;

static void
free_msgs(msg_ctx *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->msgs[i]);
    }
    free(c->msgs);
    free(c->lens);
    free(c->types);
    c->msgs = NULL;
    c->lens = c->types = NULL;
    c->count = 0;
}

static int
encrypt_run(void *vctx, size_t n)
{
    msg_ctx *c = vctx;
    size_t len, type;
    for (size_t i = 0; i < n; i++) {
        char *m = encrypt(c->p.alice, c->pt, c->size, &len, &type);
        free(m);
    }
    return 0;
}

static int
decrypt_prepare(void *vctx, size_t n)
{
    msg_ctx *c = vctx;
    free_msgs(c);
    c->msgs = xmalloc(n * sizeof *c->msgs);
    c->lens = xmalloc(n * sizeof *c->lens);
    c->types = xmalloc(n * sizeof *c->types);
    for (size_t i = 0; i < n; i++) {
        c->msgs[i] = encrypt(c->p.alice, c->pt, c->size, &c->lens[i], &c->types[i]);
        c->count++;
    }
    return 0;
}

static int
decrypt_run(void *vctx, size_t n)
{
    msg_ctx *c = vctx;
    for (size_t i = 0; i < n; i++) {
        decrypt_check(c->p.bob, c->types[i], c->msgs[i], c->lens[i], c->pt, c->size);
    }
    return 0;
}

static int
ping_pong_run(void *vctx, size_t n)
{
    msg_ctx *c = vctx;
    size_t len, type;
    for (size_t i = 0; i < n; i++) {
        char *m = encrypt(c->p.alice, c->pt, c->size, &len, &type);
        decrypt_check(c->p.bob, type, m, len, c->pt, c->size);
        free(m);
        m = encrypt(c->p.bob, c->pt, c->size, &len, &type);
        decrypt_check(c->p.alice, type, m, len, c->pt, c->size);
        free(m);
    }
    return 0;
}

static void
msg_ctx_init(msg_ctx *c, size_t size)
{
    memset(c, 0, sizeof *c);
    make_pair(&c->p);
    c->size = size;
    c->pt = xmalloc(size);
    peer_random(c->pt, size);
}

/* ---- Megolm ------------------------------------------------------------------- */

typedef struct {
    OlmOutboundGroupSession *out;
    OlmInboundGroupSession *in;
    uint8_t pt[100];
    uint8_t **msgs;
    size_t *lens, count;
} group_ctx;

static uint8_t *
group_encrypt(group_ctx *c, size_t *len)
{
    *len = olm_group_encrypt_message_length(c->out, sizeof c->pt);
    uint8_t *m = xmalloc(*len);
    if (failed(olm_group_encrypt(c->out, c->pt, sizeof c->pt, m, *len))) {
        peer_fail("olm_group_encrypt");
    }
    return m;
}

static void
group_decrypt_check(group_ctx *c, uint8_t *m, size_t len)
{
    uint8_t *copy = xmalloc(len);
    memcpy(copy, m, len);
    size_t max = olm_group_decrypt_max_plaintext_length(c->in, copy, len);
    free(copy);
    if (failed(max)) {
        peer_fail("olm_group_decrypt_max_plaintext_length");
    }
    uint8_t *pt = xmalloc(max);
    uint32_t index;
    size_t n = olm_group_decrypt(c->in, m, len, pt, max, &index);
    if (failed(n) || n != sizeof c->pt || memcmp(pt, c->pt, n) != 0) {
        peer_fail("olm_group_decrypt: wrong plaintext");
    }
    free(pt);
}

static void
group_init(group_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->out = olm_outbound_group_session(xmalloc(olm_outbound_group_session_size()));
    size_t rn = olm_init_outbound_group_session_random_length(c->out);
    uint8_t *r = random_bytes(rn);
    if (failed(olm_init_outbound_group_session(c->out, r, rn))) {
        peer_fail("olm_init_outbound_group_session");
    }
    free(r);
    size_t kn = olm_outbound_group_session_key_length(c->out);
    uint8_t *key = xmalloc(kn);
    if (failed(olm_outbound_group_session_key(c->out, key, kn))) {
        peer_fail("olm_outbound_group_session_key");
    }
    c->in = olm_inbound_group_session(xmalloc(olm_inbound_group_session_size()));
    if (failed(olm_init_inbound_group_session(c->in, key, kn))) {
        peer_fail("olm_init_inbound_group_session");
    }
    free(key);
    peer_random(c->pt, sizeof c->pt);
}

static int
group_encrypt_run(void *vctx, size_t n)
{
    group_ctx *c = vctx;
    size_t len;
    for (size_t i = 0; i < n; i++) {
        free(group_encrypt(c, &len));
    }
    return 0;
}

static int
group_decrypt_prepare(void *vctx, size_t n)
{
    group_ctx *c = vctx;
    for (size_t i = 0; i < c->count; i++) {
        free(c->msgs[i]);
    }
    free(c->msgs);
    free(c->lens);
    c->msgs = xmalloc(n * sizeof *c->msgs);
    c->lens = xmalloc(n * sizeof *c->lens);
    for (c->count = 0; c->count < n; c->count++) {
        c->msgs[c->count] = group_encrypt(c, &c->lens[c->count]);
    }
    return 0;
}

static int
group_decrypt_run(void *vctx, size_t n)
{
    group_ctx *c = vctx;
    for (size_t i = 0; i < n; i++) {
        group_decrypt_check(c, c->msgs[i], c->lens[i]);
    }
    return 0;
}

/* ---- main ----------------------------------------------------------------------- */

/* Bytes a base64 text of `len` characters decodes to (libolm writes it unpadded). */
static size_t
decoded(size_t len)
{
    return len * 3 / 4;
}

int
main(int argc, char **argv)
{
    int rc = peer_init(argc, argv);
    if (rc != 0) {
        return rc;
    }

    setup_ctx setup;
    memset(&setup, 0, sizeof setup);
    setup.alice = new_account();
    peer_random(setup.pt, sizeof setup.pt);
    const peer_case setup_case = { "setup_pair", &setup, setup_prepare, setup_run };

    /* A pair per case: an encrypting case's messages are never received, so a
     * decrypting case must not follow the same chain (libolm refuses gaps
     * over 2000). */
    msg_ctx small, small_in, large, large_in, pp;
    msg_ctx_init(&small, 100);
    msg_ctx_init(&small_in, 100);
    msg_ctx_init(&large, 16384);
    msg_ctx_init(&large_in, 16384);
    msg_ctx_init(&pp, 100);
    /* The same for groups: the decrypting case gets its own sender. */
    group_ctx group, group_in;
    group_init(&group);
    group_init(&group_in);

    const peer_case cases[] = {
        setup_case,
        { "encrypt_100", &small, NULL, encrypt_run },
        { "decrypt_100", &small_in, decrypt_prepare, decrypt_run },
        { "encrypt_16k", &large, NULL, encrypt_run },
        { "decrypt_16k", &large_in, decrypt_prepare, decrypt_run },
        { "ping_pong", &pp, NULL, ping_pong_run },
        { "group_encrypt_100", &group, NULL, group_encrypt_run },
        { "group_decrypt_100", &group_in, group_decrypt_prepare, group_decrypt_run },
    };
    if (peer_measure_all(cases, sizeof cases / sizeof cases[0]) != 0) {
        return 1;
    }

    /* Sizes, for 100-byte plaintexts, as decoded bytes. */
    {
        pair p;
        char bob_id[KEY_B64 + 1];
        uint8_t pt[100];
        size_t len, type;
        peer_random(pt, sizeof pt);
        p.alice_account = new_account();
        p.bob_account = new_account();
        identity_key(p.bob_account, bob_id);
        char *otk = one_time_keys(p.bob_account, 1);
        p.alice = outbound_session(p.alice_account, bob_id, otk);
        free(otk);
        char *m = encrypt(p.alice, pt, sizeof pt, &len, &type);
        peer_report_size("first_message_100", decoded(len));
        free(m);
        free_session(p.alice);
        free_account(p.alice_account);
        free_account(p.bob_account);

        m = encrypt(small_in.p.alice, pt, sizeof pt, &len, &type);
        if (type != OLM_MESSAGE_TYPE_MESSAGE) {
            peer_fail("an established session still sends pre-key messages");
        }
        peer_report_size("message_100", decoded(len));
        decrypt_check(small_in.p.bob, type, m, len, pt, sizeof pt);
        free(m);

        uint8_t *g = group_encrypt(&group, &len);
        peer_report_size("group_message_100", decoded(len));
        free(g);

        /* A session record: the pickle with a 32-byte key (encrypted, base64). */
        uint8_t key[32] = { 0 };
        size_t pn = olm_pickle_session_length(small_in.p.bob);
        char *pickled = xmalloc(pn);
        if (failed(olm_pickle_session(small_in.p.bob, key, sizeof key, pickled, pn))) {
            peer_fail("olm_pickle_session");
        }
        peer_report_size("session_record", decoded(pn));
        free(pickled);
    }
    return 0;
}
