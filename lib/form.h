/*
 * form: application/x-www-form-urlencoded bodies with bracket notation, the way Stripe's API
 * reads them (stripe-node and stripe-python send them so):
 *
 *   email=a%40b.c&metadata[account_id]=7&line_items[0][price]=price_1&expand[]=customer
 *
 * become a JSON object tree whose leaves are strings:
 *
 *   {"email":"a@b.c","metadata":{"account_id":"7"},"line_items":[{"price":"price_1"}],
 *    "expand":["customer"]}
 *
 * Rules: pairs split on '&' (empty pairs skipped), name and value at the first '=', '+' is a
 * space, %XX is a byte (a bad escape is an error); the name is a base followed by [segment]s;
 * a numeric segment indexes an array (the next index appends, an existing one is reused, a gap
 * is an error), [] appends, any other segment is an object key; a later scalar replaces an
 * earlier one; a name used both as a scalar and as a container is an error. Limits: FORM_MAX_DEPTH
 * segments, FORM_MAX_PAIRS pairs, FORM_MAX_INDEX array elements.
 */
#ifndef KBOOK_FORM_H
#define KBOOK_FORM_H

#include <stddef.h>

struct json_object;

#define FORM_MAX_DEPTH 8
#define FORM_MAX_PAIRS 1000
#define FORM_MAX_INDEX 1000

/*
 * Percent-decodes s (len bytes, '+' as a space) into out, which holds at least len + 1 bytes;
 * out is NUL-terminated. Returns the decoded length, or -1 on a bad escape or a decoded NUL.
 */
long form_decode(const char *s, size_t len, char *out);

/*
 * Sets the decoded name (name_len bytes) to the decoded value in the tree root. Returns 0, or
 * -1 with *why set (a static message) on a malformed name or a type conflict.
 */
int form_set(struct json_object *root, const char *name, size_t name_len, const char *value,
    size_t value_len, const char **why);

/*
 * Parses a whole body (len bytes, not necessarily NUL-terminated). Returns a new object tree
 * (caller puts it), or NULL with *why set; *why_param, when not NULL, gets the offending name
 * (decoded, caller frees) where there is one.
 */
struct json_object *form_parse(const char *body, size_t len, const char **why, char **why_param);

#endif
