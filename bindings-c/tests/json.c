#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;
    const char *end;
    int depth;
} reader;

static void skip_ws(reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) {
        r->p++;
    }
}

static int parse_value(reader *r, jval *out);

static int hex4(const char *p, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (uint32_t)(c - 'A' + 10);
        } else {
            return 0;
        }
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *dst, uint32_t cp) {
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads a string literal at r->p into a malloc'd buffer. */
static int parse_string(reader *r, char **out, size_t *out_len) {
    if (r->p >= r->end || *r->p != '"') {
        return 0;
    }
    r->p++;
    /* Decoded text is never longer than the escaped source. */
    const char *start = r->p;
    char *buf = malloc((size_t)(r->end - start) + 1);
    if (!buf) {
        return 0;
    }
    size_t n = 0;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20) {
            free(buf);
            return 0;
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            r->p++;
            continue;
        }
        r->p++;
        if (r->p >= r->end) {
            free(buf);
            return 0;
        }
        char e = *r->p++;
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (r->end - r->p < 4 || !hex4(r->p, &cp)) {
                free(buf);
                return 0;
            }
            r->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                uint32_t lo;
                if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || !hex4(r->p + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF) {
                    free(buf);
                    return 0;
                }
                r->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            n += put_utf8(buf + n, cp);
            break;
        }
        default:
            free(buf);
            return 0;
        }
    }
    if (r->p >= r->end) {
        free(buf);
        return 0;
    }
    r->p++; /* closing quote */
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 1;
}

static int grow(jval *v, size_t *cap, int with_keys) {
    if (v->n < *cap) {
        return 1;
    }
    size_t next = *cap ? *cap * 2 : 4;
    jval *items = realloc(v->items, next * sizeof *items);
    if (!items) {
        return 0;
    }
    v->items = items;
    if (with_keys) {
        char **keys = realloc(v->keys, next * sizeof *keys);
        if (!keys) {
            return 0;
        }
        v->keys = keys;
    }
    *cap = next;
    return 1;
}

static int parse_container(reader *r, jval *out, char close, int is_object) {
    size_t cap = 0;
    r->p++;
    if (++r->depth > 64) {
        return 0;
    }
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return 1;
    }
    for (;;) {
        if (!grow(out, &cap, is_object)) {
            return 0;
        }
        if (is_object) {
            size_t klen;
            skip_ws(r);
            if (!parse_string(r, &out->keys[out->n], &klen)) {
                return 0;
            }
            skip_ws(r);
            if (r->p >= r->end || *r->p != ':') {
                free(out->keys[out->n]);
                return 0;
            }
            r->p++;
        }
        memset(&out->items[out->n], 0, sizeof out->items[0]);
        if (!parse_value(r, &out->items[out->n])) {
            /* The failed item released its own parts; the caller frees the rest. */
            if (is_object) {
                free(out->keys[out->n]);
            }
            return 0;
        }
        out->n++;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            r->depth--;
            return 1;
        }
        return 0;
    }
}

static void free_inner(jval *v);

static int parse_value(reader *r, jval *out) {
    skip_ws(r);
    if (r->p >= r->end) {
        return 0;
    }
    out->src = r->p;
    int ok = 0;
    char c = *r->p;
    if (c == '{') {
        out->type = J_OBJ;
        ok = parse_container(r, out, '}', 1);
    } else if (c == '[') {
        out->type = J_ARR;
        ok = parse_container(r, out, ']', 0);
    } else if (c == '"') {
        out->type = J_STR;
        ok = parse_string(r, &out->str, &out->str_len);
    } else if (r->end - r->p >= 4 && strncmp(r->p, "true", 4) == 0) {
        out->type = J_BOOL;
        out->boolean = 1;
        r->p += 4;
        ok = 1;
    } else if (r->end - r->p >= 5 && strncmp(r->p, "false", 5) == 0) {
        out->type = J_BOOL;
        r->p += 5;
        ok = 1;
    } else if (r->end - r->p >= 4 && strncmp(r->p, "null", 4) == 0) {
        out->type = J_NULL;
        r->p += 4;
        ok = 1;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        out->type = J_NUM;
        out->num = strtod(r->p, &end);
        ok = end > r->p && end <= r->end;
        r->p = end;
    }
    if (!ok) {
        free_inner(out);
        return 0;
    }
    out->src_len = (size_t)(r->p - out->src);
    return 1;
}

static void free_inner(jval *v) {
    for (size_t i = 0; i < v->n; i++) {
        free_inner(&v->items[i]);
        if (v->type == J_OBJ) {
            free(v->keys[i]);
        }
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    v->items = NULL;
    v->keys = NULL;
    v->str = NULL;
    v->n = 0;
}

jval *json_parse(const char *text) {
    reader r = {text, text + strlen(text), 0};
    jval *v = calloc(1, sizeof *v);
    if (!v) {
        return NULL;
    }
    if (!parse_value(&r, v)) {
        free(v);
        return NULL;
    }
    skip_ws(&r);
    if (r.p != r.end) {
        json_free(v);
        return NULL;
    }
    return v;
}

void json_free(jval *v) {
    if (v) {
        free_inner(v);
        free(v);
    }
}

const jval *json_get(const jval *obj, const char *key) {
    if (!obj || obj->type != J_OBJ) {
        return NULL;
    }
    for (size_t i = 0; i < obj->n; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            return &obj->items[i];
        }
    }
    return NULL;
}

const char *json_get_str(const jval *obj, const char *key) {
    const jval *v = json_get(obj, key);
    return v && v->type == J_STR ? v->str : NULL;
}

char *json_text(const jval *v) {
    char *s = malloc(v->src_len + 1);
    if (s) {
        memcpy(s, v->src, v->src_len);
        s[v->src_len] = '\0';
    }
    return s;
}
