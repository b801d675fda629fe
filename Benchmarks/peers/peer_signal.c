/*
 * peer_signal.c: libsignal-protocol-c (Debian's libsignal-protocol-c-dev)
 * doing what swift-e2ee's bench rows do, for `scripts/bench.sh --peers`.
 * The library takes its primitives from a provider: here OpenSSL's AES
 * (CBC with PKCS#5 padding, CTR), HMAC-SHA-256 and SHA-512, and the kernel's
 * random bytes. Its stores are small in-memory maps. Every decryption is
 * checked against its plaintext: a harness that does not really work exits 1
 * before printing any figure.
 */
#include "peer_bench.h"

#include <signal_protocol.h>
#include <key_helper.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>
#include <group_cipher.h>
#include <group_session_builder.h>
#include <protocol.h>
#include <ratchet.h>
#include <curve.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
check(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "peer: %s: error %d\n", what, rc);
        exit(1);
    }
}

/* ---- the crypto provider (OpenSSL) ------------------------------------------ */

static int
p_random(uint8_t *data, size_t len, void *ud)
{
    (void) ud;
    peer_random(data, len);
    return 0;
}

/* HMAC through OpenSSL 3's EVP_MAC; the algorithm is fetched once. */
static EVP_MAC *hmac;

static int
p_hmac_init(void **ctx, const uint8_t *key, size_t key_len, void *ud)
{
    (void) ud;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC_CTX *h = EVP_MAC_CTX_new(hmac);
    if (h == NULL || EVP_MAC_init(h, key, key_len, params) != 1) {
        EVP_MAC_CTX_free(h);
        return SG_ERR_UNKNOWN;
    }
    *ctx = h;
    return 0;
}

static int
p_hmac_update(void *ctx, const uint8_t *data, size_t len, void *ud)
{
    (void) ud;
    return EVP_MAC_update(ctx, data, len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int
p_hmac_final(void *ctx, signal_buffer **out, void *ud)
{
    (void) ud;
    uint8_t md[EVP_MAX_MD_SIZE];
    size_t n = 0;
    if (EVP_MAC_final(ctx, md, &n, sizeof md) != 1 || (*out = signal_buffer_create(md, n)) == NULL) {
        return SG_ERR_UNKNOWN;
    }
    return 0;
}

static void
p_hmac_cleanup(void *ctx, void *ud)
{
    (void) ud;
    EVP_MAC_CTX_free(ctx);
}

static int
p_sha512_init(void **ctx, void *ud)
{
    (void) ud;
    EVP_MD_CTX *d = EVP_MD_CTX_new();
    if (d == NULL || EVP_DigestInit_ex(d, EVP_sha512(), NULL) != 1) {
        EVP_MD_CTX_free(d);
        return SG_ERR_UNKNOWN;
    }
    *ctx = d;
    return 0;
}

static int
p_sha512_update(void *ctx, const uint8_t *data, size_t len, void *ud)
{
    (void) ud;
    return EVP_DigestUpdate(ctx, data, len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int
p_sha512_final(void *ctx, signal_buffer **out, void *ud)
{
    (void) ud;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    /* The digest is reused after final: start it again. */
    if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) != 1
        || (*out = signal_buffer_create(md, n)) == NULL) {
        return SG_ERR_UNKNOWN;
    }
    return 0;
}

static void
p_sha512_cleanup(void *ctx, void *ud)
{
    (void) ud;
    EVP_MD_CTX_free(ctx);
}

static const EVP_CIPHER *
aes(int cipher, size_t key_len)
{
    if (cipher == SG_CIPHER_AES_CBC_PKCS5) {
        return key_len == 16 ? EVP_aes_128_cbc() : key_len == 24 ? EVP_aes_192_cbc()
             : key_len == 32 ? EVP_aes_256_cbc() : NULL;
    }
    if (cipher == SG_CIPHER_AES_CTR_NOPADDING) {
        return key_len == 16 ? EVP_aes_128_ctr() : key_len == 24 ? EVP_aes_192_ctr()
             : key_len == 32 ? EVP_aes_256_ctr() : NULL;
    }
    return NULL;
}

static int
p_crypt(int enc, signal_buffer **out, int cipher, const uint8_t *key, size_t key_len, const uint8_t *iv,
        size_t iv_len, const uint8_t *in, size_t in_len)
{
    const EVP_CIPHER *c = aes(cipher, key_len);
    if (c == NULL || iv_len != 16) {
        return SG_ERR_UNKNOWN;
    }
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t *buf = malloc(in_len + 32);
    int n1 = 0, n2 = 0, ok = ctx != NULL && buf != NULL
        && EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc) == 1
        && EVP_CipherUpdate(ctx, buf, &n1, in, (int) in_len) == 1
        && EVP_CipherFinal_ex(ctx, buf + n1, &n2) == 1;
    if (ok) {
        *out = signal_buffer_create(buf, (size_t) (n1 + n2));
        ok = *out != NULL;
    }
    EVP_CIPHER_CTX_free(ctx);
    free(buf);
    return ok ? 0 : SG_ERR_UNKNOWN;
}

static int
p_encrypt(signal_buffer **out, int cipher, const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
          const uint8_t *pt, size_t pt_len, void *ud)
{
    (void) ud;
    return p_crypt(1, out, cipher, key, key_len, iv, iv_len, pt, pt_len);
}

static int
p_decrypt(signal_buffer **out, int cipher, const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
          const uint8_t *ct, size_t ct_len, void *ud)
{
    (void) ud;
    return p_crypt(0, out, cipher, key, key_len, iv, iv_len, ct, ct_len);
}

/* ---- in-memory stores ------------------------------------------------------- */

/* One map for every kind of record: key = kind letter + name + ids. */
typedef struct entry {
    char *key;
    signal_buffer *record;
    struct entry *next;
} entry;

typedef struct {
    entry *head;
    ratchet_identity_key_pair *identity;
    uint32_t registration_id;
} party;

static char *
make_key(char kind, const char *name, size_t name_len, long a, long b)
{
    char *k = malloc(name_len + 64);
    if (k == NULL) {
        peer_fail("out of memory");
    }
    int n = snprintf(k, 64, "%c:%ld:%ld:", kind, a, b);
    memcpy(k + n, name, name_len);
    k[(size_t) n + name_len] = 0;
    return k;
}

static entry **
find(party *p, const char *key)
{
    entry **e = &p->head;
    while (*e != NULL && strcmp((*e)->key, key) != 0) {
        e = &(*e)->next;
    }
    return e;
}

static int
put(party *p, char *key, const uint8_t *data, size_t len)
{
    entry **e = find(p, key);
    signal_buffer *b = signal_buffer_create(data, len);
    if (b == NULL) {
        free(key);
        return SG_ERR_NOMEM;
    }
    if (*e != NULL) {
        signal_buffer_free((*e)->record);
        (*e)->record = b;
        free(key);
    } else {
        entry *n = malloc(sizeof *n);
        if (n == NULL) {
            peer_fail("out of memory");
        }
        n->key = key;
        n->record = b;
        n->next = NULL;
        *e = n;
    }
    return 0;
}

static int
get(party *p, char *key, signal_buffer **out)
{
    entry **e = find(p, key);
    free(key);
    if (*e == NULL) {
        return 0;
    }
    *out = signal_buffer_copy((*e)->record);
    return 1;
}

static int
del(party *p, char *key)
{
    entry **e = find(p, key);
    free(key);
    if (*e != NULL) {
        entry *gone = *e;
        *e = gone->next;
        signal_buffer_free(gone->record);
        free(gone->key);
        free(gone);
    }
    return 0;
}

/* Whether `key` is held (takes the key, like get). */
static int
has(party *p, char *key)
{
    signal_buffer *b = NULL;
    int found = get(p, key, &b);
    signal_buffer_free(b);
    return found;
}

static int
s_load(signal_buffer **record, signal_buffer **user_record, const signal_protocol_address *a, void *ud)
{
    *user_record = NULL;
    return get(ud, make_key('s', a->name, a->name_len, a->device_id, 0), record);
}

static int
s_sub_devices(signal_int_list **sessions, const char *name, size_t name_len, void *ud)
{
    (void) name;
    (void) name_len;
    (void) ud;
    *sessions = signal_int_list_alloc();
    return 0;
}

static int
s_store(const signal_protocol_address *a, uint8_t *record, size_t len, uint8_t *user_record, size_t user_len, void *ud)
{
    (void) user_record;
    (void) user_len;
    return put(ud, make_key('s', a->name, a->name_len, a->device_id, 0), record, len);
}

static int
s_contains(const signal_protocol_address *a, void *ud)
{
    return has(ud, make_key('s', a->name, a->name_len, a->device_id, 0));
}

static int
s_delete(const signal_protocol_address *a, void *ud)
{
    return del(ud, make_key('s', a->name, a->name_len, a->device_id, 0));
}

static int
s_delete_all(const char *name, size_t name_len, void *ud)
{
    (void) name;
    (void) name_len;
    (void) ud;
    return 0;
}

static int
pk_load(signal_buffer **record, uint32_t id, void *ud)
{
    return get(ud, make_key('p', "", 0, id, 0), record) ? SG_SUCCESS : SG_ERR_INVALID_KEY_ID;
}

static int
pk_store(uint32_t id, uint8_t *record, size_t len, void *ud)
{
    return put(ud, make_key('p', "", 0, id, 0), record, len);
}

static int
pk_contains(uint32_t id, void *ud)
{
    return has(ud, make_key('p', "", 0, id, 0));
}

static int
pk_remove(uint32_t id, void *ud)
{
    return del(ud, make_key('p', "", 0, id, 0));
}

static int
spk_load(signal_buffer **record, uint32_t id, void *ud)
{
    return get(ud, make_key('S', "", 0, id, 0), record) ? SG_SUCCESS : SG_ERR_INVALID_KEY_ID;
}

static int
spk_store(uint32_t id, uint8_t *record, size_t len, void *ud)
{
    return put(ud, make_key('S', "", 0, id, 0), record, len);
}

static int
spk_contains(uint32_t id, void *ud)
{
    return has(ud, make_key('S', "", 0, id, 0));
}

static int
spk_remove(uint32_t id, void *ud)
{
    return del(ud, make_key('S', "", 0, id, 0));
}

static int
id_pair(signal_buffer **pub, signal_buffer **priv, void *ud)
{
    party *p = ud;
    check(ec_public_key_serialize(pub, ratchet_identity_key_pair_get_public(p->identity)), "identity public");
    check(ec_private_key_serialize(priv, ratchet_identity_key_pair_get_private(p->identity)), "identity private");
    return 0;
}

static int
id_registration(void *ud, uint32_t *id)
{
    *id = ((party *) ud)->registration_id;
    return 0;
}

static int
id_save(const signal_protocol_address *a, uint8_t *key, size_t len, void *ud)
{
    if (key == NULL) {
        return del(ud, make_key('i', a->name, a->name_len, a->device_id, 0));
    }
    return put(ud, make_key('i', a->name, a->name_len, a->device_id, 0), key, len);
}

static int
id_trusted(const signal_protocol_address *a, uint8_t *key, size_t len, void *ud)
{
    (void) a;
    (void) key;
    (void) len;
    (void) ud;
    return 1;   /* trust on first use, as the bench of ours does */
}

static int
sk_store(const signal_protocol_sender_key_name *n, uint8_t *record, size_t len, uint8_t *user_record,
         size_t user_len, void *ud)
{
    (void) user_record;
    (void) user_len;
    char *key = make_key('g', n->group_id, n->group_id_len, n->sender.device_id, (long) n->sender.name_len);
    return put(ud, key, record, len);
}

static int
sk_load(signal_buffer **record, signal_buffer **user_record, const signal_protocol_sender_key_name *n, void *ud)
{
    *user_record = NULL;
    char *key = make_key('g', n->group_id, n->group_id_len, n->sender.device_id, (long) n->sender.name_len);
    return get(ud, key, record);
}

static signal_context *global;

static signal_protocol_store_context *
store_for(party *p)
{
    signal_protocol_store_context *s;
    check(signal_protocol_store_context_create(&s, global), "store context");
    signal_protocol_session_store ss = { s_load, s_sub_devices, s_store, s_contains, s_delete, s_delete_all, NULL, p };
    signal_protocol_pre_key_store ps = { pk_load, pk_store, pk_contains, pk_remove, NULL, p };
    signal_protocol_signed_pre_key_store sps = { spk_load, spk_store, spk_contains, spk_remove, NULL, p };
    signal_protocol_identity_key_store is = { id_pair, id_registration, id_save, id_trusted, NULL, p };
    signal_protocol_sender_key_store gs = { sk_store, sk_load, NULL, p };
    check(signal_protocol_store_context_set_session_store(s, &ss), "session store");
    check(signal_protocol_store_context_set_pre_key_store(s, &ps), "pre-key store");
    check(signal_protocol_store_context_set_signed_pre_key_store(s, &sps), "signed pre-key store");
    check(signal_protocol_store_context_set_identity_key_store(s, &is), "identity store");
    check(signal_protocol_store_context_set_sender_key_store(s, &gs), "sender key store");
    return s;
}

/* ---- parties and sessions ------------------------------------------------------ */

typedef struct {
    party p;
    signal_protocol_store_context *store;
    signal_protocol_address address;
    session_signed_pre_key *spk;
} device;

static void
device_init(device *d, const char *name)
{
    memset(d, 0, sizeof *d);
    check(signal_protocol_key_helper_generate_identity_key_pair(&d->p.identity, global), "identity");
    check(signal_protocol_key_helper_generate_registration_id(&d->p.registration_id, 0, global), "registration id");
    d->store = store_for(&d->p);
    d->address.name = name;
    d->address.name_len = strlen(name);
    d->address.device_id = 1;
    check(signal_protocol_key_helper_generate_signed_pre_key(&d->spk, d->p.identity, 1, 0, global), "signed pre-key");
    signal_buffer *b = NULL;
    check(session_signed_pre_key_serialize(&b, d->spk), "signed pre-key serialize");
    check(spk_store(1, signal_buffer_data(b), signal_buffer_len(b), &d->p), "signed pre-key store");
    signal_buffer_free(b);
}

/* Makes `count` one-time pre-keys from `start` on, stores them, returns their public keys. */
static ec_public_key **
pre_keys(device *d, unsigned start, unsigned count)
{
    signal_protocol_key_helper_pre_key_list_node *head = NULL;
    check(signal_protocol_key_helper_generate_pre_keys(&head, start, count, global), "pre-keys");
    ec_public_key **pubs = calloc(count, sizeof *pubs);
    unsigned i = 0;
    for (signal_protocol_key_helper_pre_key_list_node *n = head; n != NULL; n = signal_protocol_key_helper_key_list_next(n)) {
        session_pre_key *k = signal_protocol_key_helper_key_list_element(n);
        signal_buffer *b = NULL;
        check(session_pre_key_serialize(&b, k), "pre-key serialize");
        check(pk_store(session_pre_key_get_id(k), signal_buffer_data(b), signal_buffer_len(b), &d->p), "pre-key store");
        signal_buffer_free(b);
        pubs[i] = ec_key_pair_get_public(session_pre_key_get_key_pair(k));
        SIGNAL_REF(pubs[i]);
        i++;
    }
    signal_protocol_key_helper_key_list_free(head);
    return pubs;
}

static session_pre_key_bundle *
bundle(device *d, uint32_t pre_key_id, ec_public_key *pre_key)
{
    session_pre_key_bundle *b;
    check(session_pre_key_bundle_create(&b, d->p.registration_id, d->address.device_id, pre_key_id, pre_key, 1,
                                        ec_key_pair_get_public(session_signed_pre_key_get_key_pair(d->spk)),
                                        session_signed_pre_key_get_signature(d->spk),
                                        session_signed_pre_key_get_signature_len(d->spk),
                                        ratchet_identity_key_pair_get_public(d->p.identity)), "bundle");
    return b;
}

/* `from` processes `to`'s bundle with one-time pre-key `pre_key_id`, as a
 * server hands it out: `from` then has a session with `to`. */
static void
process_bundle(device *from, device *to, uint32_t pre_key_id, ec_public_key *pre_key)
{
    session_pre_key_bundle *b = bundle(to, pre_key_id, pre_key);
    session_builder *builder;
    check(session_builder_create(&builder, from->store, &to->address, global), "session builder");
    check(session_builder_process_pre_key_bundle(builder, b), "process bundle");
    session_builder_free(builder);
    SIGNAL_UNREF(b);
}

/* Encrypts pt from `from` to `to`; returns the serialized message and its type. */
static signal_buffer *
encrypt(session_cipher *c, const uint8_t *pt, size_t len, int *type)
{
    ciphertext_message *m = NULL;
    check(session_cipher_encrypt(c, pt, len, &m), "session_cipher_encrypt");
    *type = ciphertext_message_get_type(m);
    signal_buffer *out = signal_buffer_copy(ciphertext_message_get_serialized(m));
    SIGNAL_UNREF(m);
    return out;
}

static void
decrypt_check(session_cipher *c, int type, signal_buffer *m, const uint8_t *expect, size_t len)
{
    signal_buffer *pt = NULL;
    if (type == CIPHERTEXT_PREKEY_TYPE) {
        pre_key_signal_message *p = NULL;
        check(pre_key_signal_message_deserialize(&p, signal_buffer_data(m), signal_buffer_len(m), global), "pre-key message");
        check(session_cipher_decrypt_pre_key_signal_message(c, p, NULL, &pt), "decrypt pre-key message");
        SIGNAL_UNREF(p);
    } else {
        signal_message *s = NULL;
        check(signal_message_deserialize(&s, signal_buffer_data(m), signal_buffer_len(m), global), "signal message");
        check(session_cipher_decrypt_signal_message(c, s, NULL, &pt), "decrypt signal message");
        SIGNAL_UNREF(s);
    }
    if (signal_buffer_len(pt) != len || memcmp(signal_buffer_data(pt), expect, len) != 0) {
        peer_fail("libsignal decrypt: wrong plaintext");
    }
    signal_buffer_free(pt);
}

/* Alice and Bob after a setup and one message each way. */
typedef struct {
    device alice, bob;
    session_cipher *a, *b;   /* a: Alice's cipher towards Bob; b: Bob's towards Alice */
    uint8_t *pt;
    size_t size;
    signal_buffer **msgs;
    int *types;
    size_t count;
} pair;

static void
pair_init(pair *p, size_t size)
{
    memset(p, 0, sizeof *p);
    device_init(&p->alice, "alice");
    device_init(&p->bob, "bob");
    ec_public_key **pk = pre_keys(&p->bob, 1, 1);
    process_bundle(&p->alice, &p->bob, 1, pk[0]);
    SIGNAL_UNREF(pk[0]);
    free(pk);
    check(session_cipher_create(&p->a, p->alice.store, &p->bob.address, global), "cipher a");
    check(session_cipher_create(&p->b, p->bob.store, &p->alice.address, global), "cipher b");
    p->size = size;
    p->pt = malloc(size);
    peer_random(p->pt, size);
    int type;
    signal_buffer *m = encrypt(p->a, p->pt, size, &type);
    decrypt_check(p->b, type, m, p->pt, size);
    signal_buffer_free(m);
    m = encrypt(p->b, p->pt, size, &type);
    decrypt_check(p->a, type, m, p->pt, size);
    signal_buffer_free(m);
}

static int
encrypt_run(void *ctx, size_t n)
{
    pair *p = ctx;
    int type;
    for (size_t i = 0; i < n; i++) {
        signal_buffer_free(encrypt(p->a, p->pt, p->size, &type));
    }
    return 0;
}

static int
decrypt_prepare(void *ctx, size_t n)
{
    pair *p = ctx;
    for (size_t i = 0; i < p->count; i++) {
        signal_buffer_free(p->msgs[i]);
    }
    free(p->msgs);
    free(p->types);
    p->msgs = calloc(n, sizeof *p->msgs);
    p->types = calloc(n, sizeof *p->types);
    for (p->count = 0; p->count < n; p->count++) {
        p->msgs[p->count] = encrypt(p->a, p->pt, p->size, &p->types[p->count]);
    }
    return 0;
}

static int
decrypt_run(void *ctx, size_t n)
{
    pair *p = ctx;
    for (size_t i = 0; i < n; i++) {
        decrypt_check(p->b, p->types[i], p->msgs[i], p->pt, p->size);
    }
    return 0;
}

static int
ping_pong_run(void *ctx, size_t n)
{
    pair *p = ctx;
    int type;
    for (size_t i = 0; i < n; i++) {
        signal_buffer *m = encrypt(p->a, p->pt, p->size, &type);
        decrypt_check(p->b, type, m, p->pt, p->size);
        signal_buffer_free(m);
        m = encrypt(p->b, p->pt, p->size, &type);
        decrypt_check(p->a, type, m, p->pt, p->size);
        signal_buffer_free(m);
    }
    return 0;
}

/* ---- setup pair ----------------------------------------------------------------- */

typedef struct {
    device alice, bob;
    ec_public_key **keys;
    unsigned first, count;
    uint8_t pt[100];
} setup_ctx;

static int
setup_prepare(void *ctx, size_t n)
{
    setup_ctx *c = ctx;
    for (unsigned i = 0; i < c->count; i++) {
        SIGNAL_UNREF(c->keys[i]);
    }
    free(c->keys);
    c->first += c->count;
    c->count = (unsigned) n;
    c->keys = pre_keys(&c->bob, c->first + 1, c->count);
    return 0;
}

static int
setup_run(void *ctx, size_t n)
{
    setup_ctx *c = ctx;
    for (size_t i = 0; i < n; i++) {
        /* Bob's bundle with this setup's one-time pre-key. */
        process_bundle(&c->alice, &c->bob, c->first + 1 + (uint32_t) i, c->keys[i]);
        session_cipher *a, *bc;
        check(session_cipher_create(&a, c->alice.store, &c->bob.address, global), "cipher a");
        int type;
        signal_buffer *m = encrypt(a, c->pt, sizeof c->pt, &type);
        if (type != CIPHERTEXT_PREKEY_TYPE) {
            peer_fail("a first message that is no pre-key message");
        }
        check(session_cipher_create(&bc, c->bob.store, &c->alice.address, global), "cipher b");
        decrypt_check(bc, type, m, c->pt, sizeof c->pt);
        signal_buffer_free(m);
        session_cipher_free(a);
        session_cipher_free(bc);
        /* Each setup a fresh session on both sides, not an archive growing in one record. */
        s_delete(&c->bob.address, &c->alice.p);
        s_delete(&c->alice.address, &c->bob.p);
    }
    return 0;
}

/* ---- sender keys ---------------------------------------------------------------- */

typedef struct {
    device sender, receiver;
    signal_protocol_sender_key_name name;
    group_cipher *out, *in;
    uint8_t pt[100];
    signal_buffer **msgs;
    size_t count;
} group_ctx;

static signal_buffer *
group_encrypt(group_ctx *g)
{
    ciphertext_message *m = NULL;
    check(group_cipher_encrypt(g->out, g->pt, sizeof g->pt, &m), "group_cipher_encrypt");
    signal_buffer *out = signal_buffer_copy(ciphertext_message_get_serialized(m));
    SIGNAL_UNREF(m);
    return out;
}

static void
group_decrypt_check(group_ctx *g, signal_buffer *m)
{
    sender_key_message *s = NULL;
    signal_buffer *pt = NULL;
    check(sender_key_message_deserialize(&s, signal_buffer_data(m), signal_buffer_len(m), global), "sender key message");
    check(group_cipher_decrypt(g->in, s, NULL, &pt), "group_cipher_decrypt");
    SIGNAL_UNREF(s);
    if (signal_buffer_len(pt) != sizeof g->pt || memcmp(signal_buffer_data(pt), g->pt, sizeof g->pt) != 0) {
        peer_fail("libsignal group decrypt: wrong plaintext");
    }
    signal_buffer_free(pt);
}

static void
group_init(group_ctx *g)
{
    memset(g, 0, sizeof *g);
    device_init(&g->sender, "sender");
    device_init(&g->receiver, "receiver");
    g->name.group_id = "group";
    g->name.group_id_len = 5;
    g->name.sender = g->sender.address;
    group_session_builder *sb, *rb;
    sender_key_distribution_message *dist = NULL, *received = NULL;
    check(group_session_builder_create(&sb, g->sender.store, global), "group builder");
    check(group_session_builder_create_session(sb, &dist, &g->name), "group session");
    signal_buffer *wire = ciphertext_message_get_serialized((ciphertext_message *) dist);
    check(sender_key_distribution_message_deserialize(&received, signal_buffer_data(wire), signal_buffer_len(wire), global),
          "distribution message");
    check(group_session_builder_create(&rb, g->receiver.store, global), "group builder");
    check(group_session_builder_process_session(rb, &g->name, received), "process distribution");
    SIGNAL_UNREF(dist);
    SIGNAL_UNREF(received);
    group_session_builder_free(sb);
    group_session_builder_free(rb);
    check(group_cipher_create(&g->out, g->sender.store, &g->name, global), "group cipher out");
    check(group_cipher_create(&g->in, g->receiver.store, &g->name, global), "group cipher in");
    peer_random(g->pt, sizeof g->pt);
}

static int
group_encrypt_run(void *ctx, size_t n)
{
    group_ctx *g = ctx;
    for (size_t i = 0; i < n; i++) {
        signal_buffer_free(group_encrypt(g));
    }
    return 0;
}

static int
group_decrypt_prepare(void *ctx, size_t n)
{
    group_ctx *g = ctx;
    for (size_t i = 0; i < g->count; i++) {
        signal_buffer_free(g->msgs[i]);
    }
    free(g->msgs);
    g->msgs = calloc(n, sizeof *g->msgs);
    for (g->count = 0; g->count < n; g->count++) {
        g->msgs[g->count] = group_encrypt(g);
    }
    return 0;
}

static int
group_decrypt_run(void *ctx, size_t n)
{
    group_ctx *g = ctx;
    for (size_t i = 0; i < n; i++) {
        group_decrypt_check(g, g->msgs[i]);
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
    int rc = peer_init(argc, argv);
    if (rc != 0) {
        return rc;
    }
    static const signal_crypto_provider provider = {
        p_random, p_hmac_init, p_hmac_update, p_hmac_final, p_hmac_cleanup,
        p_sha512_init, p_sha512_update, p_sha512_final, p_sha512_cleanup,
        p_encrypt, p_decrypt, NULL,
    };
    if ((hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
        peer_fail("OpenSSL has no HMAC");
    }
    check(signal_context_create(&global, NULL), "signal context");
    check(signal_context_set_crypto_provider(global, &provider), "crypto provider");

    setup_ctx setup;
    memset(&setup, 0, sizeof setup);
    device_init(&setup.alice, "alice");
    device_init(&setup.bob, "bob");
    peer_random(setup.pt, sizeof setup.pt);

    /* A pair per case: an encrypting case's messages are never received. */
    pair small, small_in, large, large_in, pp;
    pair_init(&small, 100);
    pair_init(&small_in, 100);
    pair_init(&large, 16384);
    pair_init(&large_in, 16384);
    pair_init(&pp, 100);
    /* The same for groups: the decrypting case gets its own sender. */
    group_ctx group, group_in;
    group_init(&group);
    group_init(&group_in);

    const peer_case cases[] = {
        { "setup_pair", &setup, setup_prepare, setup_run },
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

    /* Sizes, for 100-byte plaintexts. */
    {
        int type;
        uint8_t pt[100];
        peer_random(pt, sizeof pt);
        device a, b;
        device_init(&a, "a");
        device_init(&b, "b");
        ec_public_key **pk = pre_keys(&b, 1, 1);
        process_bundle(&a, &b, 1, pk[0]);
        SIGNAL_UNREF(pk[0]);
        free(pk);
        session_cipher *ca;
        check(session_cipher_create(&ca, a.store, &b.address, global), "cipher");
        signal_buffer *m = encrypt(ca, pt, sizeof pt, &type);
        peer_report_size("first_message_100", signal_buffer_len(m));
        signal_buffer_free(m);

        m = encrypt(small_in.a, pt, sizeof pt, &type);
        if (type != CIPHERTEXT_SIGNAL_TYPE) {
            peer_fail("an established session still sends pre-key messages");
        }
        peer_report_size("message_100", signal_buffer_len(m));
        decrypt_check(small_in.b, type, m, pt, sizeof pt);
        signal_buffer_free(m);

        m = group_encrypt(&group);
        peer_report_size("group_message_100", signal_buffer_len(m));
        signal_buffer_free(m);

        signal_buffer *record = NULL, *user = NULL;
        if (s_load(&record, &user, &small_in.alice.address, &small_in.bob.p) != 1) {
            peer_fail("no session record");
        }
        peer_report_size("session_record", signal_buffer_len(record));
        signal_buffer_free(record);
    }
    return 0;
}
