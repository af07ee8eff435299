/*
 * Loader for the golden vectors in tests/vectors (format: tests/vectors/README.md).
 *
 * NAME.hex → streams (one per TCP connection, "# stream N") of PDUs (direction + bytes, plus the
 * header fields the capture tool wrote in the "# c2s PTYPE ptype=.. flags=.. ..." comment before
 * each PDU). NAME.txt → client runs ("===== client run k:") holding the "Request Parameters"
 * blocks and, in order, the "Response from KMS server" blocks or "Error 0x…" lines.
 *
 * Everything is heap-allocated and released by vector_free().
 */
#ifndef KMSLOAD_TEST_VECTOR_FILE_H
#define KMSLOAD_TEST_VECTOR_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One DCE/RPC PDU of a capture. */
struct vf_pdu {
    bool c2s; /* client → host; false: host → client */
    uint8_t *data;
    size_t len;
    int line; /* line number in NAME.hex, for messages */
    /* From the comment line preceding the PDU, when there was one. */
    bool has_meta;
    char meta_name[24]; /* "BIND", "REQUEST", … */
    unsigned meta_ptype, meta_flags, meta_frag_len;
    uint32_t meta_call_id;
};

struct vf_stream {
    int number; /* N of "# stream N" */
    struct vf_pdu *pdus;
    size_t n_pdus;
};

struct vf_kv {
    char *key; /* trimmed */
    char *value;
};

/* A "Request Parameters" or "Response from KMS server" block, or an "Error 0x…" line. */
struct vf_block {
    bool is_error;
    uint32_t hresult; /* is_error only */
    struct vf_kv *kv;
    size_t n_kv;
    int line;
};

struct vf_run {
    int number;    /* k of "===== client run k:" */
    char *command; /* the rest of that line */
    struct vf_block *requests;
    size_t n_requests;
    struct vf_block *responses; /* responses and errors, in order */
    size_t n_responses;
};

struct vector_file {
    char name[64];
    struct vf_stream *streams;
    size_t n_streams;
    struct vf_run *runs;
    size_t n_runs;
};

/*
 * Loads dir/NAME.hex and dir/NAME.txt. Returns 0, or -1 with a message in err (err_cap bytes);
 * vf is always safe to pass to vector_free afterwards.
 */
int vector_load(const char *dir, const char *name, struct vector_file *vf, char *err,
                size_t err_cap);
void vector_free(struct vector_file *vf);

/* Value for key in block, or NULL. */
const char *vf_block_get(const struct vf_block *block, const char *key);

#endif
