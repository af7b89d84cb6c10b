/*
 * A small JSON reader for the tests: parses a document into a tree whose
 * nodes remember their source text, so a sub-value can be handed to
 * miosa_call as JSON without re-serialising it.
 */
#ifndef MIOSA_TEST_JSON_H
#define MIOSA_TEST_JSON_H

#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype type;
    const char *src; /* where this value starts in the parsed text */
    size_t src_len;  /* its length there */
    int boolean;
    double num;
    char *str;       /* J_STR: decoded UTF-8, NUL-terminated */
    size_t str_len;
    size_t n;        /* J_ARR / J_OBJ: number of items */
    struct jval *items;
    char **keys;     /* J_OBJ: decoded keys */
} jval;

/* Parses `text` (which must outlive the tree); NULL on malformed JSON. */
jval *json_parse(const char *text);
void json_free(jval *v);

/* Member `key` of an object, or NULL. */
const jval *json_get(const jval *obj, const char *key);
/* The string of member `key`, or NULL when absent or not a string. */
const char *json_get_str(const jval *obj, const char *key);
/* A malloc'd copy of the value's source text. */
char *json_text(const jval *v);

#endif
