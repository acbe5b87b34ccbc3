/*
 * sanitize_check.h: the output properties of the HTML sanitizer, checked independently of its
 * implementation; shared by tests/unit/test_sanitize.c and tests/fuzz/fuzz_sanitize.c.
 *
 * sancheck_output() re-parses an output with gumbo and walks the tree: only allowlisted HTML
 * elements and attributes, no on* attribute, no comment, every href/src with an allowed scheme
 * after the same decoding a browser does, rel on every link, no "<script" anywhere; and the
 * tree serialised again (by a small serializer written here, not the sanitizer's) must give
 * the output back byte for byte, i.e. the output parses back to the tree it describes.
 */
#ifndef HDF_SANITIZE_CHECK_H
#define HDF_SANITIZE_CHECK_H

#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sancheck_buf {
    char *data;
    size_t len, cap;
};

static inline void sancheck_put(struct sancheck_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        if (b->data == NULL)
            abort();
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void sancheck_puts(struct sancheck_buf *b, const char *s)
{
    sancheck_put(b, s, strlen(s));
}

static inline void sancheck_escape(struct sancheck_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '&')
            sancheck_puts(b, "&amp;");
        else if (*s == '<')
            sancheck_puts(b, "&lt;");
        else if (*s == '>')
            sancheck_puts(b, "&gt;");
        else if (*s == '"')
            sancheck_puts(b, "&quot;");
        else if (*s == '\r')
            sancheck_puts(b, "&#13;");
        else if (s[0] == '\xC2' && s[1] == '\xA0') {
            sancheck_puts(b, "&nbsp;");
            s++;
        } else
            sancheck_put(b, s, 1);
    }
}

static inline int sancheck_allowed_tag(GumboTag t)
{
    static const GumboTag ok[] = {
        GUMBO_TAG_P,   GUMBO_TAG_BR, GUMBO_TAG_DIV, GUMBO_TAG_SPAN,       GUMBO_TAG_B,        GUMBO_TAG_STRONG, GUMBO_TAG_I,
        GUMBO_TAG_EM,  GUMBO_TAG_U,  GUMBO_TAG_S,   GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_PRE,      GUMBO_TAG_CODE,   GUMBO_TAG_UL,
        GUMBO_TAG_OL,  GUMBO_TAG_LI, GUMBO_TAG_H1,  GUMBO_TAG_H2,         GUMBO_TAG_H3,       GUMBO_TAG_H4,     GUMBO_TAG_H5,
        GUMBO_TAG_H6,  GUMBO_TAG_A,  GUMBO_TAG_IMG, GUMBO_TAG_TABLE,      GUMBO_TAG_THEAD,    GUMBO_TAG_TBODY,  GUMBO_TAG_TFOOT,
        GUMBO_TAG_TR,  GUMBO_TAG_TH, GUMBO_TAG_TD,  GUMBO_TAG_CAPTION,    GUMBO_TAG_COLGROUP, GUMBO_TAG_COL,    GUMBO_TAG_HR,
        GUMBO_TAG_SUB, GUMBO_TAG_SUP};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (ok[i] == t)
            return 1;
    return 0;
}

/* The scheme as a browser sees it: trimmed, tabs and newlines removed, lower-cased. */
static inline int sancheck_url_ok(const char *v, int is_src)
{
    char clean[32];
    size_t k = 0, n = strlen(v);
    while (n > 0 && (unsigned char)v[n - 1] <= 0x20)
        n--;
    size_t i = 0;
    while (i < n && (unsigned char)v[i] <= 0x20)
        i++;
    for (; i < n && k + 1 < sizeof(clean); i++)
        if (v[i] != '\t' && v[i] != '\n' && v[i] != '\r')
            clean[k++] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
    clean[k] = '\0';
    if (strncmp(clean, "http:", 5) == 0 || strncmp(clean, "https:", 6) == 0)
        return 1;
    return is_src ? strncmp(clean, "cid:", 4) == 0 : strncmp(clean, "mailto:", 7) == 0;
}

static inline const char *sancheck_attr(GumboTag t, const GumboAttribute *a)
{
    const char *n = a->name;
    if (strncasecmp(n, "on", 2) == 0)
        return "event handler attribute";
    if (a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE)
        return "namespaced attribute";
    if (strcmp(n, "title") == 0)
        return NULL;
    if (t == GUMBO_TAG_A && strcmp(n, "href") == 0)
        return sancheck_url_ok(a->value, 0) ? NULL : "bad href scheme";
    if (t == GUMBO_TAG_A && strcmp(n, "rel") == 0)
        return strcmp(a->value, "noopener noreferrer nofollow") == 0 ? NULL : "bad rel";
    if (t == GUMBO_TAG_IMG && strcmp(n, "src") == 0)
        return sancheck_url_ok(a->value, 1) ? NULL : "bad src scheme";
    if (t == GUMBO_TAG_IMG && strcmp(n, "alt") == 0)
        return NULL;
    int cell = t == GUMBO_TAG_TD || t == GUMBO_TAG_TH;
    if (cell && (strcmp(n, "colspan") == 0 || strcmp(n, "rowspan") == 0))
        return strspn(a->value, "0123456789") == strlen(a->value) ? NULL : "bad span";
    if ((cell || t == GUMBO_TAG_IMG || t == GUMBO_TAG_TABLE || t == GUMBO_TAG_COL) &&
        (strcmp(n, "width") == 0 || strcmp(n, "height") == 0))
        return strspn(a->value, "0123456789%") == strlen(a->value) ? NULL : "bad dimension";
    return "attribute not in the allowlist";
}

static inline const char *sancheck_node(const GumboNode *node, struct sancheck_buf *b, int depth);

static inline const char *sancheck_element(const GumboNode *node, struct sancheck_buf *b, int depth)
{
    const GumboElement *e = &node->v.element;
    if (node->type != GUMBO_NODE_ELEMENT || e->tag_namespace != GUMBO_NAMESPACE_HTML || !sancheck_allowed_tag(e->tag))
        return "element not in the allowlist";
    if (depth > 200)
        return "too deep";
    const char *name = gumbo_normalized_tagname(e->tag);
    int has_href = 0, has_rel = 0;
    sancheck_puts(b, "<");
    sancheck_puts(b, name);
    for (unsigned i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *a = e->attributes.data[i];
        const char *why = sancheck_attr(e->tag, a);
        if (why != NULL)
            return why;
        has_href |= strcmp(a->name, "href") == 0;
        has_rel |= strcmp(a->name, "rel") == 0;
        sancheck_puts(b, " ");
        sancheck_puts(b, a->name);
        sancheck_puts(b, "=\"");
        sancheck_escape(b, a->value);
        sancheck_puts(b, "\"");
    }
    if (e->tag == GUMBO_TAG_A && !(has_href && has_rel))
        return "link without href or rel";
    sancheck_puts(b, ">");
    if (e->tag == GUMBO_TAG_BR || e->tag == GUMBO_TAG_IMG || e->tag == GUMBO_TAG_HR || e->tag == GUMBO_TAG_COL)
        return e->children.length == 0 ? NULL : "void element with children";
    if (e->tag == GUMBO_TAG_PRE && e->children.length > 0) {
        const GumboNode *first = e->children.data[0];
        if ((first->type == GUMBO_NODE_TEXT || first->type == GUMBO_NODE_WHITESPACE) && first->v.text.text[0] == '\n')
            sancheck_puts(b, "\n");
    }
    for (unsigned i = 0; i < e->children.length; i++) {
        const char *why = sancheck_node(e->children.data[i], b, depth + 1);
        if (why != NULL)
            return why;
    }
    sancheck_puts(b, "</");
    sancheck_puts(b, name);
    sancheck_puts(b, ">");
    return NULL;
}

static inline const char *sancheck_node(const GumboNode *node, struct sancheck_buf *b, int depth)
{
    switch (node->type) {
    case GUMBO_NODE_TEXT:
    case GUMBO_NODE_WHITESPACE:
        sancheck_escape(b, node->v.text.text);
        return NULL;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE:
        return sancheck_element(node, b, depth);
    default:
        return "comment or CDATA in the output";
    }
}

/* NULL when out (len bytes) has every property, else what is wrong. */
static inline const char *sancheck_output(const char *out, size_t len)
{
    if (strlen(out) != len)
        return "NUL byte in the output";
    for (size_t i = 0; i + 7 <= len; i++)
        if (strncasecmp(out + i, "<script", 7) == 0)
            return "<script in the output";
    GumboOptions opts = kGumboDefaultOptions;
    opts.fragment_context = GUMBO_TAG_BODY;
    opts.max_errors = 0;
    GumboOutput *doc = gumbo_parse_with_options(&opts, out, len);
    struct sancheck_buf b = {NULL, 0, 0};
    sancheck_put(&b, "", 0);
    const GumboVector *kids = &doc->root->v.element.children;
    const char *why = NULL;
    for (unsigned i = 0; i < kids->length && why == NULL; i++)
        why = sancheck_node(kids->data[i], &b, 1);
    if (why == NULL && (b.len != len || memcmp(b.data, out, len) != 0))
        why = "output does not parse back to the same tree";
    free(b.data);
    gumbo_destroy_output(&opts, doc);
    return why;
}

#endif
