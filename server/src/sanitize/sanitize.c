/*
 * sanitize.c: HTML sanitizer for ticket and message bodies (see sanitize.h and the
 * "Sanitization" section of docs/security.md).
 *
 * Before anything else, a body without '<' and '&' is plain text and is escaped directly, and
 * a linear pre-scan bounds how deep the parser could nest (gumbo is quadratic in that) and
 * refuses bodies past SANITIZE_MAX_NESTING, along with markup known to crash libgumbo.
 *
 * Then three steps: libgumbo parses the body as a browser parses the content of <body>; an
 * iterative walk over the tree decides for every node whether it is emitted, unwrapped (its
 * children kept) or dropped with everything inside it; the emitted nodes are serialised with
 * every attribute double-quoted and every text escaped.
 *
 * Idempotence is the hard part. The parser's tree always serialises back to itself, but
 * unwrapping an element can create a tree the parser would never build: <p><marquee><div>
 * becomes p > div, which a parser reads as two siblings. So the walk tracks, for the output
 * tree, the few parser rules that can restructure well-nested markup (a block start tag closes
 * an open <p>; <li> closes an open <li> unless a list or similar element is between them; a
 * heading closes a heading that is its parent; <a> closes an open <a> outside a table cell;
 * table parts only exist in their table parent) and unwraps the inner element instead of
 * emitting markup that would re-parse differently.
 *
 * Gumbo allocates from a per-call arena with a budget: no free() per node, one free per call,
 * and hostile input that makes the parser clone attributes thousands of times fails cleanly
 * (the allocator longjmps out of the parser) instead of eating the server's memory.
 */
#include <gumbo.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sanitize/sanitize.h"

/* ---- arena allocator for gumbo -------------------------------------------------------------- */

#define SAN_CHUNK_SIZE (64 * 1024)
#define SAN_ALIGN 16
#define SAN_BUDGET_FACTOR 64
#define SAN_BUDGET_BASE ((size_t)16 * 1024 * 1024)

struct san_chunk {
    struct san_chunk *next;
    size_t cap, used;
};

struct san_arena {
    struct san_chunk *head;
    size_t total, budget;
    int err;
    jmp_buf jmp;
};

#define SAN_CHUNK_HDR ((sizeof(struct san_chunk) + SAN_ALIGN - 1) & ~(size_t)(SAN_ALIGN - 1))

static void san_arena_fail(struct san_arena *ar, int err)
{
    ar->err = err;
    longjmp(ar->jmp, 1);
}

static void *san_arena_alloc(void *userdata, size_t size)
{
    struct san_arena *ar = userdata;
    size = (size + SAN_ALIGN - 1) & ~(size_t)(SAN_ALIGN - 1);
    if (size == 0)
        size = SAN_ALIGN;
    struct san_chunk *c = ar->head;
    if (c == NULL || c->cap - c->used < size) {
        size_t cap = size > SAN_CHUNK_SIZE / 4 ? size : SAN_CHUNK_SIZE;
        if (cap > ar->budget || ar->total > ar->budget - cap)
            san_arena_fail(ar, SANITIZE_TOO_COMPLEX);
        c = malloc(SAN_CHUNK_HDR + cap);
        if (c == NULL)
            san_arena_fail(ar, SANITIZE_ENOMEM);
        ar->total += cap;
        c->cap = cap;
        c->used = 0;
        /* A big dedicated chunk goes behind the current one so the current one keeps filling. */
        if (ar->head != NULL && cap != SAN_CHUNK_SIZE) {
            c->next = ar->head->next;
            ar->head->next = c;
        } else {
            c->next = ar->head;
            ar->head = c;
        }
    }
    void *p = (char *)c + SAN_CHUNK_HDR + c->used;
    c->used += size;
    return p;
}

/* Everything is freed at once by san_arena_free. */
static void san_arena_dealloc(void *userdata, void *ptr)
{
    (void)userdata;
    (void)ptr;
}

static void san_arena_free(struct san_arena *ar)
{
    while (ar->head != NULL) {
        struct san_chunk *next = ar->head->next;
        free(ar->head);
        ar->head = next;
    }
}

/* Parses in as the children of <body>. NULL (and ar->err set) when the budget is exhausted. */
static GumboOutput *san_parse(struct san_arena *ar, const char *in, size_t len)
{
    GumboOptions opts = kGumboDefaultOptions;
    opts.allocator = san_arena_alloc;
    opts.deallocator = san_arena_dealloc;
    opts.userdata = ar;
    opts.max_errors = 0; /* we never look at parse errors: don't record them */
    opts.fragment_context = GUMBO_TAG_BODY;
    opts.fragment_namespace = GUMBO_NAMESPACE_HTML;
    ar->budget = len > (SIZE_MAX - SAN_BUDGET_BASE) / SAN_BUDGET_FACTOR ? SIZE_MAX : SAN_BUDGET_BASE + SAN_BUDGET_FACTOR * len;
    if (setjmp(ar->jmp) != 0)
        return NULL;
    return gumbo_parse_with_options(&opts, in, len);
}

/* ---- output buffer ---------------------------------------------------------------------------- */

struct san_buf {
    char *data;
    size_t len, cap, max;
    int err;
};

static void san_buf_put(struct san_buf *b, const char *s, size_t n)
{
    if (b->err != 0)
        return;
    if (n > b->max - b->len) {
        b->err = SANITIZE_TOO_COMPLEX;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap < 256 ? 256 : b->cap;
        while (cap < b->len + n + 1)
            cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
        char *p = realloc(b->data, cap);
        if (p == NULL) {
            b->err = SANITIZE_ENOMEM;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void san_buf_puts(struct san_buf *b, const char *s)
{
    san_buf_put(b, s, strlen(s));
}

/*
 * Length of the character at s when it is one the parser replaces by U+FFFD when it appears
 * literally (C0 controls other than tab, LF, FF and CR; DEL and C1 controls; noncharacters),
 * else 0. Such characters still reach us through numeric references (&#5;); written back as
 * they are they would re-parse as U+FFFD, so we write U+FFFD straight away.
 */
static size_t san_junk_char_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if ((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F)
        return 1;
    if (c == 0xC2 && n >= 2 && s[1] >= 0x80 && s[1] <= 0x9F)
        return 2;
    if (c == 0xEF && n >= 3 && ((s[1] == 0xB7 && s[2] >= 0x90 && s[2] <= 0xAF) || (s[1] == 0xBF && s[2] >= 0xBE)))
        return 3; /* U+FDD0..U+FDEF, U+FFFE, U+FFFF */
    if (c >= 0xF0 && n >= 4 && (s[1] & 0x0F) == 0x0F && s[2] == 0xBF && s[3] >= 0xBE)
        return 4; /* U+1FFFE, U+1FFFF, ... U+10FFFF */
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), or 0. */
static size_t san_utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80, hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (len > 1 && (s[1] < lo || s[1] > hi))
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* The escape for the character at s, or NULL to copy it; *skip is its length in bytes. */
static const char *san_escape_for(const char *s, size_t n, size_t *skip)
{
    *skip = 1;
    switch (s[0]) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\r':
        return "&#13;";
    case '\0':
        return "";
    default:
        break;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t len = san_utf8_len(u, n);
    /* gumbo can hand us broken UTF-8 (e.g. from &#xCCCCCCCf;): it would re-parse as U+FFFD. */
    if (len == 0)
        return "\xEF\xBF\xBD";
    *skip = len;
    if (len == 2 && u[0] == 0xC2 && u[1] == 0xA0)
        return "&nbsp;";
    return san_junk_char_len(u, n) > 0 ? "\xEF\xBF\xBD" : NULL;
}

/*
 * Escapes text or an attribute value. & < > and " always (so the output is safe in either
 * place and never depends on context); U+00A0 as &nbsp; so that it stays visible when someone
 * reads the stored HTML; CR as &#13; because a raw CR would be turned into LF when re-parsed.
 * NUL is dropped, as the parser drops it from text (there are none in what gumbo gives us).
 * The result is always valid UTF-8.
 */
static void san_buf_escape(struct san_buf *b, const char *s, size_t n)
{
    size_t start = 0, skip;
    for (size_t i = 0; i < n; i += skip) {
        const char *rep = san_escape_for(s + i, n - i, &skip);
        if (rep == NULL)
            continue;
        san_buf_put(b, s + start, i - start);
        san_buf_puts(b, rep);
        start = i + skip;
    }
    san_buf_put(b, s + start, n - start);
}

/* ---- element policy --------------------------------------------------------------------------- */

enum san_action { SAN_DROP, SAN_UNWRAP, SAN_EMIT };

/* Properties of allowlisted elements that matter for re-parsing. */
#define SAN_F_ALLOWED 0x01
#define SAN_F_VOID 0x02
#define SAN_F_BLOCK 0x04  /* its start tag closes an open <p> */
#define SAN_F_LISTOP 0x08 /* "special": an <li> start tag does not look past it */
#define SAN_F_HEADING 0x10
#define SAN_F_TABLECTX 0x20 /* only table parts (and whitespace) may be its children */
#define SAN_F_MARKER 0x40   /* pushes a marker: an <a> inside does not close an <a> outside */

static unsigned san_tag_flags(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_SPAN:
    case GUMBO_TAG_B:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_I:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_U:
    case GUMBO_TAG_S:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP:
    case GUMBO_TAG_A:
        return SAN_F_ALLOWED;
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_P:
        return SAN_F_ALLOWED | SAN_F_BLOCK;
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_LI:
        return SAN_F_ALLOWED | SAN_F_BLOCK | SAN_F_LISTOP;
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
        return SAN_F_ALLOWED | SAN_F_BLOCK | SAN_F_LISTOP | SAN_F_HEADING;
    case GUMBO_TAG_BR:
    case GUMBO_TAG_IMG:
        return SAN_F_ALLOWED | SAN_F_VOID;
    case GUMBO_TAG_HR:
        return SAN_F_ALLOWED | SAN_F_VOID | SAN_F_BLOCK;
    case GUMBO_TAG_COL:
        return SAN_F_ALLOWED | SAN_F_VOID;
    case GUMBO_TAG_TABLE:
        return SAN_F_ALLOWED | SAN_F_BLOCK | SAN_F_LISTOP | SAN_F_TABLECTX;
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_COLGROUP:
        return SAN_F_ALLOWED | SAN_F_LISTOP | SAN_F_TABLECTX;
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
    case GUMBO_TAG_CAPTION:
        return SAN_F_ALLOWED | SAN_F_LISTOP | SAN_F_MARKER;
    default:
        return 0;
    }
}

/* Elements dropped with everything inside them: active content, embedded documents, styles,
 * forms and metadata. Anything neither here nor allowlisted is unwrapped. */
static int san_tag_is_dropped(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_NOEMBED:
    case GUMBO_TAG_NOFRAMES:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_FRAME:
    case GUMBO_TAG_FRAMESET:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_APPLET:
    case GUMBO_TAG_PARAM:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_OPTGROUP:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_LEGEND:
    case GUMBO_TAG_DATALIST:
    case GUMBO_TAG_OUTPUT:
    case GUMBO_TAG_KEYGEN:
    case GUMBO_TAG_TITLE:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_META:
    case GUMBO_TAG_LINK:
    case GUMBO_TAG_BASE:
    case GUMBO_TAG_BASEFONT:
    case GUMBO_TAG_BGSOUND:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_TRACK:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_MAP:
    case GUMBO_TAG_AREA:
    case GUMBO_TAG_MENUITEM:
        return 1;
    default:
        return 0;
    }
}

/* ---- URLs ------------------------------------------------------------------------------------- */

enum san_url_kind { SAN_URL_HREF, SAN_URL_SRC };

static int san_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII tab and newlines, which a browser's URL parser removes anywhere in a URL. */
static int san_is_url_junk(char c)
{
    return c == '\t' || c == '\n' || c == '\r';
}

/* Trims the leading and trailing C0 controls and spaces that a browser's URL parser strips. */
static void san_url_trim(const char **s, size_t *n)
{
    while (*n > 0 && (unsigned char)(*s)[0] <= 0x20) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && (unsigned char)(*s)[*n - 1] <= 0x20)
        (*n)--;
}

/*
 * 1 when the URL has an allowed scheme, decided the way the URL standard's parser decides it
 * after trimming and removing tabs and newlines: an ASCII letter, then letters, digits, + - or
 * ., up to the first ':'. Anything else (no ':' or another character before it) is a relative
 * URL, which we refuse: see docs/security.md.
 */
static int san_url_allowed(const char *s, enum san_url_kind kind)
{
    static const char *const href_ok[] = {"http", "https", "mailto", NULL};
    static const char *const src_ok[] = {"http", "https", "cid", NULL};
    char scheme[16];
    size_t n = strlen(s), k = 0;
    san_url_trim(&s, &n);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (san_is_url_junk(c))
            continue;
        if (c == ':')
            break;
        int ok = san_is_alpha(c) || (k > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
        if (!ok || k + 1 >= sizeof(scheme))
            return 0;
        scheme[k++] = c;
        if (i + 1 == n)
            return 0; /* no ':' at all */
    }
    for (const char *const *ok = kind == SAN_URL_HREF ? href_ok : src_ok; *ok != NULL; ok++)
        if (k > 0 && strlen(*ok) == k && strncasecmp(scheme, *ok, k) == 0)
            return 1;
    return 0;
}

/* ---- attributes ------------------------------------------------------------------------------ */

/* colspan 1..1000 and rowspan 0..65534 (the ranges browsers clamp to), plain digits. */
static int san_span_ok(const char *v, long max)
{
    size_t n = strlen(v);
    if (n == 0 || n > 5)
        return 0;
    long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        x = x * 10 + (v[i] - '0');
    }
    return x <= max;
}

/* width/height: up to 5 digits, optionally followed by %. */
static int san_dimension_ok(const char *v)
{
    size_t n = strlen(v);
    if (n > 0 && v[n - 1] == '%')
        n--;
    if (n == 0 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    return 1;
}

static void san_emit_attr(struct san_buf *b, const char *name, const char *v, size_t n)
{
    san_buf_puts(b, " ");
    san_buf_puts(b, name);
    san_buf_puts(b, "=\"");
    san_buf_escape(b, v, n);
    san_buf_puts(b, "\"");
}

/* Emits a URL attribute, trimmed and without tabs and newlines, when its scheme is allowed. */
static void san_emit_url(struct san_buf *b, const char *name, const char *v, enum san_url_kind kind)
{
    if (!san_url_allowed(v, kind))
        return;
    size_t n = strlen(v);
    san_url_trim(&v, &n);
    san_buf_puts(b, " ");
    san_buf_puts(b, name);
    san_buf_puts(b, "=\"");
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (!san_is_url_junk(v[i]))
            continue;
        san_buf_escape(b, v + start, i - start);
        start = i + 1;
    }
    san_buf_escape(b, v + start, n - start);
    san_buf_puts(b, "\"");
}

static int san_attr_ok(GumboTag t, const GumboAttribute *a)
{
    const char *n = a->name;
    if (strcmp(n, "title") == 0)
        return 1;
    if (strcmp(n, "alt") == 0)
        return t == GUMBO_TAG_IMG;
    int cell = t == GUMBO_TAG_TD || t == GUMBO_TAG_TH;
    if (strcmp(n, "colspan") == 0)
        return cell && san_span_ok(a->value, 1000);
    if (strcmp(n, "rowspan") == 0)
        return cell && san_span_ok(a->value, 65534);
    if (strcmp(n, "width") == 0 || strcmp(n, "height") == 0)
        return (cell || t == GUMBO_TAG_IMG || t == GUMBO_TAG_TABLE || t == GUMBO_TAG_COL) && san_dimension_ok(a->value);
    return 0;
}

/* 1 when an <a> has a usable link; one without is unwrapped. */
static int san_has_link(const GumboElement *e)
{
    const GumboAttribute *a = gumbo_get_attribute(&e->attributes, "href");
    return a != NULL && a->attr_namespace == GUMBO_ATTR_NAMESPACE_NONE && san_url_allowed(a->value, SAN_URL_HREF);
}

/* Writes "<tag attrs...>". Attributes come out in source order, which re-parsing preserves. */
static void san_emit_start_tag(struct san_buf *b, const GumboElement *e)
{
    san_buf_puts(b, "<");
    san_buf_puts(b, gumbo_normalized_tagname(e->tag));
    for (unsigned i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *a = e->attributes.data[i];
        if (a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE)
            continue;
        if (e->tag == GUMBO_TAG_A && strcmp(a->name, "href") == 0)
            san_emit_url(b, "href", a->value, SAN_URL_HREF);
        else if (e->tag == GUMBO_TAG_IMG && strcmp(a->name, "src") == 0)
            san_emit_url(b, "src", a->value, SAN_URL_SRC);
        else if (san_attr_ok(e->tag, a))
            san_emit_attr(b, a->name, a->value, strlen(a->value));
    }
    /* Links open nothing with a reference back to the agent's window and pass no ranking. */
    if (e->tag == GUMBO_TAG_A)
        san_buf_puts(b, " rel=\"noopener noreferrer nofollow\"");
    san_buf_puts(b, ">");
}

/* ---- nesting pre-scan ------------------------------------------------------------------------- */

/*
 * gumbo's scope checks walk the stack of open elements, so its cost grows with the square of the
 * nesting depth: 10,000 nested <div>s take a quarter of a second. Before parsing, a linear scan
 * tokenizes the input as the HTML tokenizer does (tags with quoted attribute values, comments,
 * bogus comments, raw-text and RCDATA contents, script data with its escape states) and keeps a
 * model of the stack of open elements that can only be deeper than the parser's: an end tag pops
 * only what it certainly closes, start tags close only what the parser certainly closes, and
 * where the model cannot know what the parser does (foreign content, <select>) it assumes the
 * worst. Invariant: the parser's stack is a subsequence of the model's; the bound is the model's
 * greatest depth plus the childless elements (void elements, <isindex>) inserted under it.
 */

/* Properties of the tag names the model cares about. */
#define SAN_K_VOID 0x0001     /* void element in HTML content: a leaf */
#define SAN_K_RAWTEXT 0x0002  /* RAWTEXT or RCDATA content up to the matching end tag */
#define SAN_K_SCRIPT 0x0004   /* script data, with its escape states */
#define SAN_K_PLAIN 0x0008    /* <plaintext>: the rest is text */
#define SAN_K_FOREIGN 0x0010  /* <svg>, <math>: the model stops trusting HTML rules inside */
#define SAN_K_SELECT 0x0020   /* <select> (and <template>): start tags may be ignored inside */
#define SAN_K_TABLE 0x0040    /* may get implied tbody > tr or colgroup children */
#define SAN_K_IMPLIED 0x0080  /* closed by "generate implied end tags" */
#define SAN_K_CLOSES_P 0x0100 /* its start tag closes an open <p> */
#define SAN_K_HEADING 0x0200
#define SAN_K_CELL 0x0400      /* td, th */
#define SAN_K_SECTION 0x0800   /* tbody, thead, tfoot */
#define SAN_K_BLOCK_END 0x1000 /* its end tag generates implied end tags and closes it */
#define SAN_K_ROW 0x2000       /* tr */
#define SAN_K_TPART 0x4000     /* caption, colgroup */

/* Depth a <table> (or <template>) stands for: itself plus the tbody > tr (or colgroup) the
 * parser may add. */
#define SAN_TABLE_WEIGHT 3
/* <isindex> is replaced by form > label > input. */
#define SAN_ISINDEX_DEPTH 3

struct san_tag_kind {
    const char *name;
    size_t len;
    unsigned kind;
};

#define SAN_TK(name, kind)                                                                                                         \
    {                                                                                                                              \
        name, sizeof(name) - 1, kind                                                                                               \
    }

static const struct san_tag_kind san_tag_kinds[] = {
    SAN_TK("a", 0),
    SAN_TK("address", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("area", SAN_K_VOID),
    SAN_TK("article", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("aside", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("base", SAN_K_VOID),
    SAN_TK("basefont", SAN_K_VOID),
    SAN_TK("bgsound", SAN_K_VOID),
    SAN_TK("blockquote", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("br", SAN_K_VOID),
    SAN_TK("caption", SAN_K_TPART),
    SAN_TK("center", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("col", SAN_K_VOID),
    SAN_TK("colgroup", SAN_K_TPART),
    SAN_TK("dd", SAN_K_CLOSES_P | SAN_K_IMPLIED | SAN_K_BLOCK_END),
    SAN_TK("details", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("dialog", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("dir", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("div", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("dl", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("dt", SAN_K_CLOSES_P | SAN_K_IMPLIED | SAN_K_BLOCK_END),
    SAN_TK("embed", SAN_K_VOID),
    SAN_TK("fieldset", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("figcaption", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("figure", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("footer", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("frame", SAN_K_VOID),
    SAN_TK("h1", SAN_K_CLOSES_P | SAN_K_HEADING),
    SAN_TK("h2", SAN_K_CLOSES_P | SAN_K_HEADING),
    SAN_TK("h3", SAN_K_CLOSES_P | SAN_K_HEADING),
    SAN_TK("h4", SAN_K_CLOSES_P | SAN_K_HEADING),
    SAN_TK("h5", SAN_K_CLOSES_P | SAN_K_HEADING),
    SAN_TK("h6", SAN_K_CLOSES_P | SAN_K_HEADING),
    SAN_TK("header", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("hgroup", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("hr", SAN_K_VOID),
    SAN_TK("iframe", SAN_K_RAWTEXT),
    SAN_TK("image", SAN_K_VOID),
    SAN_TK("img", SAN_K_VOID),
    SAN_TK("input", SAN_K_VOID),
    SAN_TK("keygen", SAN_K_VOID),
    SAN_TK("li", SAN_K_CLOSES_P | SAN_K_IMPLIED | SAN_K_BLOCK_END),
    SAN_TK("link", SAN_K_VOID),
    SAN_TK("listing", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("main", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("math", SAN_K_FOREIGN),
    SAN_TK("menu", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("meta", SAN_K_VOID),
    SAN_TK("nav", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("noembed", SAN_K_RAWTEXT),
    SAN_TK("noframes", SAN_K_RAWTEXT),
    SAN_TK("ol", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("optgroup", SAN_K_IMPLIED),
    SAN_TK("option", SAN_K_IMPLIED),
    SAN_TK("p", SAN_K_CLOSES_P | SAN_K_IMPLIED | SAN_K_BLOCK_END),
    SAN_TK("param", SAN_K_VOID),
    SAN_TK("plaintext", SAN_K_PLAIN),
    SAN_TK("pre", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("rb", SAN_K_IMPLIED),
    SAN_TK("rp", SAN_K_IMPLIED),
    SAN_TK("rt", SAN_K_IMPLIED),
    SAN_TK("rtc", SAN_K_IMPLIED),
    SAN_TK("script", SAN_K_SCRIPT),
    SAN_TK("search", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("section", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("select", SAN_K_SELECT),
    SAN_TK("source", SAN_K_VOID),
    SAN_TK("style", SAN_K_RAWTEXT),
    SAN_TK("summary", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("svg", SAN_K_FOREIGN),
    SAN_TK("table", SAN_K_TABLE),
    SAN_TK("tbody", SAN_K_SECTION),
    SAN_TK("td", SAN_K_CELL | SAN_K_BLOCK_END),
    SAN_TK("textarea", SAN_K_RAWTEXT),
    SAN_TK("tfoot", SAN_K_SECTION),
    SAN_TK("th", SAN_K_CELL | SAN_K_BLOCK_END),
    SAN_TK("thead", SAN_K_SECTION),
    SAN_TK("title", SAN_K_RAWTEXT),
    SAN_TK("tr", SAN_K_ROW),
    SAN_TK("track", SAN_K_VOID),
    SAN_TK("ul", SAN_K_CLOSES_P | SAN_K_BLOCK_END),
    SAN_TK("wbr", SAN_K_VOID),
    SAN_TK("xmp", SAN_K_RAWTEXT),
};

static int san_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static char san_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* 1 when the n bytes at a and b are the same ASCII-case-insensitively. */
static int san_name_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (san_lower(a[i]) != san_lower(b[i]))
            return 0;
    return 1;
}

static unsigned san_tag_kind(const char *name, size_t n)
{
    if (n == 0)
        return 0;
    char first = san_lower(name[0]); /* the table's names are lower case */
    for (size_t i = 0; i < sizeof(san_tag_kinds) / sizeof(san_tag_kinds[0]); i++)
        if (san_tag_kinds[i].len == n && san_tag_kinds[i].name[0] == first && san_name_eq(name, san_tag_kinds[i].name, n))
            return san_tag_kinds[i].kind;
    return 0;
}

/* What an open element is, as far as implicit closes go: the start tags that may close it
 * (san_tag_closes) are told by the same bits. */
#define SAN_C_P 0x001
#define SAN_C_LI 0x002
#define SAN_C_DDDT 0x004
#define SAN_C_HEADING 0x008
#define SAN_C_OPTION 0x010 /* option, optgroup */
#define SAN_C_FMT 0x020    /* a, nobr: their start tag closes an open one */
#define SAN_C_BUTTON 0x040
#define SAN_C_TABLE 0x080
#define SAN_C_TPART 0x100 /* td th tr tbody thead tfoot caption colgroup */
#define SAN_C_SELECT 0x200
#define SAN_C_RUBY 0x400
#define SAN_C_COUNT 11

static int san_is(const char *name, size_t nlen, const char *what)
{
    return strlen(what) == nlen && san_name_eq(name, what, nlen);
}

static unsigned san_tag_class(const char *name, size_t nlen, unsigned kind)
{
    if (san_is(name, nlen, "p"))
        return SAN_C_P;
    if (san_is(name, nlen, "li"))
        return SAN_C_LI;
    if (san_is(name, nlen, "dd") || san_is(name, nlen, "dt"))
        return SAN_C_DDDT;
    if (kind & SAN_K_HEADING)
        return SAN_C_HEADING;
    if (san_is(name, nlen, "option") || san_is(name, nlen, "optgroup"))
        return SAN_C_OPTION;
    if (san_is(name, nlen, "a") || san_is(name, nlen, "nobr"))
        return SAN_C_FMT;
    if (san_is(name, nlen, "button"))
        return SAN_C_BUTTON;
    if (kind & SAN_K_TABLE)
        return SAN_C_TABLE;
    if (kind & (SAN_K_CELL | SAN_K_ROW | SAN_K_SECTION | SAN_K_TPART))
        return SAN_C_TPART;
    if (kind & SAN_K_SELECT)
        return SAN_C_SELECT;
    if (san_is(name, nlen, "ruby"))
        return SAN_C_RUBY;
    return 0;
}

/* The classes of open elements a start tag may close, in any insertion mode. Generous: a
 * class too many only makes the model more careful. */
static unsigned san_tag_closes(const char *name, size_t nlen, unsigned kind)
{
    unsigned c = san_tag_class(name, nlen, kind);
    if (kind & SAN_K_CLOSES_P)
        c |= SAN_C_P;
    if (san_is(name, nlen, "form") || san_is(name, nlen, "hr") || san_is(name, nlen, "xmp") || san_is(name, nlen, "plaintext") ||
        san_is(name, nlen, "isindex"))
        c |= SAN_C_P;
    if (c & SAN_C_TABLE)
        c |= SAN_C_P | SAN_C_SELECT;
    if (c & SAN_C_TPART)
        c |= SAN_C_SELECT;
    if (san_is(name, nlen, "input") || san_is(name, nlen, "keygen") || san_is(name, nlen, "textarea"))
        c |= SAN_C_SELECT;
    if (san_is(name, nlen, "rb") || san_is(name, nlen, "rtc") || san_is(name, nlen, "rp") || san_is(name, nlen, "rt"))
        c |= SAN_C_RUBY;
    return c;
}

struct san_open {
    const char *name;
    size_t nlen;
    unsigned kind, cls;
    unsigned weight;
    int sure; /* the parser certainly put this element on its stack */
};

/*
 * The model. The parser's stack is a subsequence of it (every element the parser has open, the
 * model has open), give or take the elements the parser adds itself (accounted for by weights
 * and leaves). Entries below stale_below may have been closed by the parser behind the model's
 * back (a start tag or an end tag that may have closed something the model keeps): an end tag
 * closes them, and what is above them, only when they are on top.
 */
struct san_model {
    struct san_open stack[SANITIZE_MAX_NESTING + 1];
    size_t n, stale_below;
    size_t depth, max;             /* weighted depth now, and the greatest bound so far */
    unsigned foreign;              /* open <svg>/<math> in the model */
    unsigned unsure;               /* open <select>/<template>: start tags may be ignored inside */
    unsigned classes[SAN_C_COUNT]; /* open entries per class */
    int pessimistic;               /* after an ambiguous construct: every start tag counts, none closes */
};

static int san_model_over(const struct san_model *m)
{
    return m->max > SANITIZE_MAX_NESTING;
}

static void san_model_see(struct san_model *m, size_t d)
{
    if (d > m->max)
        m->max = d;
}

static unsigned san_model_classes(const struct san_model *m)
{
    unsigned c = 0;
    for (unsigned i = 0; i < SAN_C_COUNT; i++)
        if (m->classes[i] > 0)
            c |= 1u << i;
    return c;
}

static void san_model_count(struct san_model *m, unsigned cls, int delta)
{
    for (unsigned i = 0; i < SAN_C_COUNT; i++)
        if (cls & (1u << i))
            m->classes[i] += (unsigned)delta;
}

/* Whether the parser certainly opens this element here (it ignores table parts outside their
 * table, most tags in <select>, a second <form>, ...). */
static int san_model_sure(const struct san_model *m, const char *name, size_t nlen, unsigned kind)
{
    if (m->foreign > 0 || m->unsure > 0 || san_is(name, nlen, "form") || san_is(name, nlen, "body") || san_is(name, nlen, "html") ||
        san_is(name, nlen, "head") || san_is(name, nlen, "frameset"))
        return 0;
    if (!(kind & (SAN_K_CELL | SAN_K_ROW | SAN_K_SECTION | SAN_K_TPART)))
        return 1;
    if (m->n == 0 || !m->stack[m->n - 1].sure)
        return 0;
    unsigned top = m->stack[m->n - 1].kind;
    if (kind & SAN_K_CELL)
        return (top & (SAN_K_ROW | SAN_K_SECTION | SAN_K_TABLE)) != 0;
    if (kind & SAN_K_ROW)
        return (top & (SAN_K_SECTION | SAN_K_TABLE)) != 0;
    return (top & SAN_K_TABLE) != 0;
}

static void san_model_push(struct san_model *m, const char *name, size_t nlen, unsigned kind)
{
    /* A <template>'s contents may be table parts too, with the same implied parents. */
    unsigned w = (kind & SAN_K_TABLE) || san_is(name, nlen, "template") ? SAN_TABLE_WEIGHT : 1;
    m->depth += w;
    san_model_see(m, m->depth);
    if (san_model_over(m) || m->n == sizeof(m->stack) / sizeof(m->stack[0]))
        return; /* the caller stops: the bound is already past the limit */
    unsigned cls = san_tag_class(name, nlen, kind);
    int sure = san_model_sure(m, name, nlen, kind);
    m->stack[m->n++] = (struct san_open){name, nlen, kind, cls, w, sure};
    m->foreign += (kind & SAN_K_FOREIGN) != 0;
    m->unsure += (kind & SAN_K_SELECT) != 0 || san_is(name, nlen, "template");
    san_model_count(m, cls, 1);
}

static void san_model_pop_to(struct san_model *m, size_t j)
{
    while (m->n > j) {
        const struct san_open *e = &m->stack[--m->n];
        m->depth -= e->weight;
        m->foreign -= (e->kind & SAN_K_FOREIGN) != 0;
        m->unsure -= (e->kind & SAN_K_SELECT) != 0 || san_is(e->name, e->nlen, "template");
        san_model_count(m, e->cls, -1);
    }
    if (m->stale_below > m->n)
        m->stale_below = m->n;
}

/* Match for an entry: the tag name when target_kind is 0, else any of the kinds in it. */
static int san_open_is(const struct san_open *e, const char *name, size_t nlen, unsigned target_kind)
{
    if (target_kind != 0)
        return (e->kind & target_kind) != 0;
    return e->nlen == nlen && san_name_eq(e->name, name, nlen);
}

/* Pops the top entry when it matches. Returns 1 when it did. */
static int san_model_close_top(struct san_model *m, const char *name, size_t nlen, unsigned target_kind)
{
    if (m->n == 0 || !san_open_is(&m->stack[m->n - 1], name, nlen, target_kind))
        return 0;
    san_model_pop_to(m, m->n - 1);
    return 1;
}

/* Pops down to and including the topmost entry that matches when only entries of skip_kind are
 * above it, and it is one the parser certainly still has open: the parser closes those on the
 * way. Returns 1 when it did. */
static int san_model_close(struct san_model *m, const char *name, size_t nlen, unsigned target_kind, unsigned skip_kind)
{
    for (size_t j = m->n; j > 0; j--) {
        const struct san_open *e = &m->stack[j - 1];
        if (san_open_is(e, name, nlen, target_kind)) {
            if (j != m->n && (!e->sure || j - 1 < m->stale_below))
                return 0;
            san_model_pop_to(m, j - 1);
            return 1;
        }
        if (!(e->kind & skip_kind))
            return 0;
    }
    return 0;
}

#define SAN_NAME(s) (s), (sizeof(s) - 1)

/* The parser's implicit closes on a start tag that the model can follow: each pops the top
 * entry only, where the parser certainly closes that element. */
static void san_model_start_closes(struct san_model *m, const char *name, size_t nlen, unsigned kind)
{
    if (kind & SAN_K_CLOSES_P)
        san_model_close_top(m, SAN_NAME("p"), 0);
    if (san_is(name, nlen, "li"))
        san_model_close_top(m, SAN_NAME("li"), 0);
    else if (san_is(name, nlen, "dd") || san_is(name, nlen, "dt")) {
        if (!san_model_close_top(m, SAN_NAME("dd"), 0))
            san_model_close_top(m, SAN_NAME("dt"), 0);
    } else if (kind & SAN_K_HEADING)
        san_model_close_top(m, NULL, 0, SAN_K_HEADING);
    else if (san_is(name, nlen, "option") || san_is(name, nlen, "optgroup"))
        san_model_close_top(m, SAN_NAME("option"), 0);
    else if (kind & (SAN_K_CELL | SAN_K_ROW | SAN_K_SECTION)) {
        san_model_close_top(m, NULL, 0, SAN_K_CELL);
        if (!(kind & SAN_K_CELL))
            san_model_close_top(m, NULL, 0, SAN_K_ROW);
        if (kind & SAN_K_SECTION)
            san_model_close_top(m, NULL, 0, SAN_K_SECTION);
    }
}

/* Everything open now may have been closed by the parser without the model knowing. */
static void san_model_stale(struct san_model *m)
{
    m->stale_below = m->n;
}

/* Bodies the parser must not see at all: the bound is set past any limit. */
static void san_model_refuse(struct san_model *m)
{
    m->max = SIZE_MAX;
}

static void san_model_start(struct san_model *m, const char *name, size_t nlen, unsigned kind)
{
    /* libgumbo 0.10.1 fails assertions (aborting the process) on a <select> inside SVG or
     * MathML, e.g. "<table><svg><select><desc><select><tbody>": its insertion-mode reset takes
     * the foreign <select> for an HTML one. No email needs that. */
    if (m->foreign > 0 && (kind & SAN_K_SELECT)) {
        san_model_refuse(m);
        return;
    }
    if (m->foreign > 0) {
        /* Foreign content has no void elements and honours "/>"; the model ignores both. */
        san_model_stale(m);
        san_model_push(m, name, nlen, kind);
        if (san_is(name, nlen, "isindex")) /* in an HTML integration point */
            san_model_see(m, m->depth + SAN_ISINDEX_DEPTH);
        return;
    }
    /* In HTML content these never make an element: a body fragment has no <html>, <head> or
     * <body> of its own to open (their attributes go to the root, or nowhere). */
    if (san_is(name, nlen, "html") || san_is(name, nlen, "body") || san_is(name, nlen, "head"))
        return;
    san_model_start_closes(m, name, nlen, kind);
    if (san_tag_closes(name, nlen, kind) & san_model_classes(m))
        san_model_stale(m);
    if (kind & SAN_K_VOID) {
        san_model_see(m, m->depth + 1);
        return;
    }
    if (san_is(name, nlen, "isindex")) {
        san_model_see(m, m->depth + SAN_ISINDEX_DEPTH);
        return;
    }
    san_model_push(m, name, nlen, kind);
}

/* 1 when an entry of that name is open (for headings: any heading). */
static int san_model_has(const struct san_model *m, const char *name, size_t nlen, unsigned kind)
{
    for (size_t j = 0; j < m->n; j++)
        if (san_open_is(&m->stack[j], name, nlen, 0) || ((kind & SAN_K_HEADING) && (m->stack[j].kind & SAN_K_HEADING)))
            return 1;
    return 0;
}

static void san_model_end(struct san_model *m, const char *name, size_t nlen)
{
    if (m->pessimistic)
        return;
    /* </p> without an open <p> inserts an empty one; </br> is a <br>. */
    if (san_is(name, nlen, "p") || san_is(name, nlen, "br"))
        san_model_see(m, m->depth + 1);
    if (san_model_close_top(m, name, nlen, 0))
        return;
    unsigned kind = san_tag_kind(name, nlen);
    int closed = 0;
    if (m->foreign > 0)
        closed = 0;
    else if (kind & SAN_K_HEADING)
        closed = san_model_close(m, NULL, 0, SAN_K_HEADING, SAN_K_IMPLIED);
    else if (kind & SAN_K_BLOCK_END)
        closed = san_model_close(m, name, nlen, 0, SAN_K_IMPLIED);
    else if (kind & SAN_K_ROW)
        closed = san_model_close(m, name, nlen, 0, SAN_K_IMPLIED | SAN_K_CELL);
    else if (kind & SAN_K_SECTION)
        closed = san_model_close(m, name, nlen, 0, SAN_K_IMPLIED | SAN_K_CELL | SAN_K_ROW);
    else if (kind & SAN_K_TABLE)
        closed = san_model_close(m, name, nlen, 0, SAN_K_IMPLIED | SAN_K_CELL | SAN_K_ROW | SAN_K_SECTION | SAN_K_TPART);
    /* The parser may close an element of that name further down (and what is above it). */
    if (!closed && (m->foreign > 0 || san_model_has(m, name, nlen, kind)))
        san_model_stale(m);
}

/* ---- the tokenizer of the pre-scan ---- */

static int san_is_alpha_c(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The input ends inside a tag: the tokenizer drops it, and nothing follows. */
#define SAN_EOF_IN_TAG SIZE_MAX

/* Position after the '>' that ends the tag whose name starts at p, or SAN_EOF_IN_TAG. *nlen is the length of the name. Attribute
 * values are skipped as the tokenizer's attribute states do: a quote only opens a value right
 * after '=' (and spaces). */
static size_t san_scan_tag(const char *in, size_t len, size_t p, size_t *nlen)
{
    size_t i = p;
    while (i < len && !san_is_space(in[i]) && in[i] != '/' && in[i] != '>')
        i++;
    *nlen = i - p;
    while (i < len) {
        char c = in[i];
        if (c == '>')
            return i + 1;
        if (san_is_space(c) || c == '/') {
            i++;
            continue;
        }
        /* An attribute name: its first character may be anything, even '=' or a quote. */
        i++;
        while (i < len && !san_is_space(in[i]) && in[i] != '/' && in[i] != '>' && in[i] != '=')
            i++;
        while (i < len && san_is_space(in[i]))
            i++;
        if (i >= len || in[i] != '=')
            continue;
        i++;
        while (i < len && san_is_space(in[i]))
            i++;
        if (i < len && (in[i] == '"' || in[i] == '\'')) {
            const char *q = memchr(in + i + 1, in[i], len - i - 1);
            if (q == NULL)
                return SAN_EOF_IN_TAG;
            i = (size_t)(q - in) + 1;
        } else {
            while (i < len && !san_is_space(in[i]) && in[i] != '>')
                i++;
        }
    }
    return SAN_EOF_IN_TAG;
}

/* 1 when "</name" followed by a space, '/' or '>' starts at i (the appropriate end tag). */
static int san_is_end_tag(const char *in, size_t len, size_t i, const char *name, size_t nlen)
{
    if (len - i < nlen + 3 || in[i] != '<' || in[i + 1] != '/' || !san_name_eq(in + i + 2, name, nlen))
        return 0;
    char c = in[i + 2 + nlen];
    return san_is_space(c) || c == '/' || c == '>';
}

/* 1 when "<script" followed by a space, '/' or '>' starts at i. */
static int san_is_script_start(const char *in, size_t len, size_t i)
{
    if (len - i < 8 || in[i] != '<' || !san_name_eq(in + i + 1, "script", 6))
        return 0;
    char c = in[i + 7];
    return san_is_space(c) || c == '/' || c == '>';
}

/* Start of the end tag that closes RAWTEXT or RCDATA content starting at i, or len. */
static size_t san_skip_rawtext(const char *in, size_t len, size_t i, const char *name, size_t nlen)
{
    for (;;) {
        const char *lt = memchr(in + i, '<', len - i);
        if (lt == NULL)
            return len;
        i = (size_t)(lt - in);
        if (san_is_end_tag(in, len, i, name, nlen))
            return i;
        i++;
    }
}

/* Start of the </script> that ends script data starting at i, or len. Follows the tokenizer's
 * script data states: after "<!--" the data is escaped, and inside it "<script" starts a
 * double-escaped part where "</script>" does not end the element; "-->" ends both. */
static size_t san_skip_script(const char *in, size_t len, size_t i)
{
    enum { DATA, ESCAPED, DOUBLE } st = DATA;
    while (i < len) {
        char c = in[i];
        if (c == '-' && st != DATA && len - i >= 3 && in[i + 1] == '-' && in[i + 2] == '>') {
            st = DATA;
            i += 3;
        } else if (c != '<') {
            i++;
        } else if (st != DOUBLE && san_is_end_tag(in, len, i, "script", 6)) {
            return i;
        } else if (st == DATA && len - i >= 4 && memcmp(in + i, "<!--", 4) == 0) {
            st = ESCAPED;
            i += 2; /* the "--" may also be the start of "-->" */
        } else if (st == ESCAPED && san_is_script_start(in, len, i)) {
            st = DOUBLE;
            i += 8;
        } else if (st == DOUBLE && san_is_end_tag(in, len, i, "script", 6)) {
            st = ESCAPED;
            i += 9;
        } else {
            i++;
        }
    }
    return len;
}

/* Position after a comment starting at i ("<!--"), or len. "<!-->", "<!--->", "-->" and "--!>"
 * end it. */
static size_t san_skip_comment(const char *in, size_t len, size_t i)
{
    i += 4;
    if (i < len && in[i] == '>')
        return i + 1;
    if (len - i >= 2 && in[i] == '-' && in[i + 1] == '>')
        return i + 2;
    for (; i + 2 < len; i++) {
        if (in[i] != '-' || in[i + 1] != '-')
            continue;
        if (in[i + 2] == '>')
            return i + 3;
        if (i + 3 < len && in[i + 2] == '!' && in[i + 3] == '>')
            return i + 4;
    }
    return len;
}

/* Position after the '>' that ends a bogus comment or doctype, or len. */
static size_t san_skip_to_gt(const char *in, size_t len, size_t i)
{
    const char *gt = memchr(in + i, '>', len - i);
    return gt == NULL ? len : (size_t)(gt - in) + 1;
}

/* After an ambiguous construct: whatever the parser makes of the rest, each element it opens
 * comes from a '<' followed by a letter (the name that follows is the tag's name, however it is
 * read), and nothing is assumed closed. Plus the deepest childless element. */
static void san_model_rest(struct san_model *m, const char *in, size_t len, size_t i)
{
    size_t depth = m->depth;
    for (; i + 1 < len && depth <= SANITIZE_MAX_NESTING; i++) {
        if (in[i] != '<' || !san_is_alpha_c(in[i + 1]))
            continue;
        size_t p = i + 1, n = 0;
        while (p + n < len && !san_is_space(in[p + n]) && in[p + n] != '/' && in[p + n] != '>')
            n++;
        unsigned kind = san_tag_kind(in + p, n);
        if (kind & SAN_K_SELECT) { /* it may be inside foreign content: see san_model_start */
            san_model_refuse(m);
            return;
        }
        depth += (kind & SAN_K_TABLE) ? SAN_TABLE_WEIGHT : 1;
    }
    san_model_see(m, depth + SAN_ISINDEX_DEPTH);
}

/* Handles the start tag at i ('<' then a letter); returns where scanning goes on. */
static size_t san_scan_start_tag(struct san_model *m, const char *in, size_t len, size_t i)
{
    size_t nlen, next = san_scan_tag(in, len, i + 1, &nlen);
    if (next == SAN_EOF_IN_TAG)
        return len;
    const char *name = in + i + 1;
    unsigned kind = san_tag_kind(name, nlen);
    san_model_start(m, name, nlen, kind);
    if (m->pessimistic || !(kind & (SAN_K_RAWTEXT | SAN_K_SCRIPT | SAN_K_PLAIN)))
        return next;
    /* In foreign content and in <select> the parser may or may not switch the tokenizer to raw
     * text here (it depends on what it closed before), and the two readings tokenize the rest
     * differently: assume the worst from here on. */
    if (m->foreign > 0 || m->unsure > 0) {
        m->pessimistic = 1;
        return next;
    }
    if (kind & SAN_K_RAWTEXT)
        return san_skip_rawtext(in, len, next, name, nlen);
    if (kind & SAN_K_SCRIPT)
        return san_skip_script(in, len, next);
    if (kind & SAN_K_PLAIN)
        return len;
    return next;
}

/* Handles what starts with "<!" at i. */
static size_t san_scan_bang(struct san_model *m, const char *in, size_t len, size_t i)
{
    if (len - i >= 4 && in[i + 2] == '-' && in[i + 3] == '-')
        return san_skip_comment(in, len, i);
    /* CDATA is a section in foreign content and a bogus comment in HTML; the model does not
     * know which the parser is in, so from here on it assumes the worst. */
    if (m->foreign > 0 && len - i >= 9 && memcmp(in + i + 2, "[CDATA[", 7) == 0) {
        m->pessimistic = 1;
        return i + 2;
    }
    return san_skip_to_gt(in, len, i + 2);
}

/*
 * libgumbo 0.10.1 fails an assertion, which aborts the whole server, on some inputs with a
 * </body> end tag (e.g. "<svg><head><foreignObject><select><select></body>", found by a
 * differential test of the pre-scan). When the body is parsed as the content of <body>, the
 * parser never has a <body> element open, so </body> and </html> end tags do nothing: the
 * pre-scan turns them into bogus comments ("<!body>", equally ignored) in a copy that the parser
 * gets instead.
 */
static int san_is_body_end(const char *name, size_t nlen)
{
    return san_is(name, nlen, "body") || san_is(name, nlen, "html");
}

/* After an ambiguous construct the tokenizer no longer knows what is markup: every "</body" and
 * "</html" counts. Returns 1 when there is one. */
static int san_fix_rest(const char *in, size_t len, size_t i, char *fix)
{
    int found = 0;
    for (; i + 6 < len; i++) {
        if (in[i] != '<' || in[i + 1] != '/' || !san_is_body_end(in + i + 2, 4))
            continue;
        char c = in[i + 6];
        if (san_is_space(c) || c == '/' || c == '>') {
            found = 1;
            if (fix != NULL)
                fix[i + 1] = '!';
        }
    }
    return found;
}

/* Where the </body> and </html> end tags are: the first few, and whether there are more (or
 * some the tokenizer could not place, after an ambiguous construct). */
struct san_body_ends {
    size_t pos[8];
    size_t n;
    int more;
};

/* The pre-scan: returns the bound and fills *ends. With fix (a copy of in), it also neutralises
 * every </body> and </html> there. */
static size_t san_prescan(const char *in, size_t len, char *fix, struct san_body_ends *ends)
{
    struct san_model m;
    memset(&m, 0, sizeof(m));
    size_t i = 0;
    ends->n = 0;
    ends->more = 0;
    while (i < len && !san_model_over(&m) && !m.pessimistic) {
        const char *lt = memchr(in + i, '<', len - i);
        if (lt == NULL || (size_t)(lt - in) + 1 >= len)
            break;
        i = (size_t)(lt - in);
        char c = in[i + 1];
        if (san_is_alpha_c(c)) {
            i = san_scan_start_tag(&m, in, len, i);
        } else if (c == '/' && i + 2 < len && san_is_alpha_c(in[i + 2])) {
            size_t nlen, next = san_scan_tag(in, len, i + 2, &nlen);
            if (next == SAN_EOF_IN_TAG)
                break;
            if (san_is_body_end(in + i + 2, nlen)) { /* a bogus comment for the parser */
                if (ends->n < sizeof(ends->pos) / sizeof(ends->pos[0]))
                    ends->pos[ends->n++] = i;
                else
                    ends->more = 1;
                if (fix != NULL)
                    fix[i + 1] = '!';
            } else {
                san_model_end(&m, in + i + 2, nlen);
            }
            i = next;
        } else if (c == '/' && i + 2 < len) {
            i = in[i + 2] == '>' ? i + 3 : san_skip_to_gt(in, len, i + 2);
        } else if (c == '!') {
            i = san_scan_bang(&m, in, len, i);
        } else if (c == '?') {
            i = san_skip_to_gt(in, len, i + 1);
        } else {
            i++;
        }
    }
    if (m.pessimistic) {
        san_model_rest(&m, in, len, i);
        ends->more |= san_fix_rest(in, len, i, fix);
    }
    return m.max;
}

size_t sanitize_nesting_bound(const char *in, size_t len)
{
    struct san_body_ends ends;
    return san_prescan(in, len, NULL, &ends);
}

/* ---- the walk --------------------------------------------------------------------------------- */

/* What the output tree looks like around the node being visited. */
struct san_ctx {
    GumboTag parent;    /* nearest emitted ancestor, GUMBO_TAG_LAST at the top */
    unsigned depth;     /* emitted ancestors */
    unsigned in_p : 1;  /* inside an emitted <p>: no block may open */
    unsigned in_li : 1; /* an emitted <li> that a new <li> would close */
    unsigned in_a : 1;  /* an emitted <a> that a new <a> would close */
};

struct san_frame {
    const GumboNode *node;
    unsigned next;      /* index of the next child to visit */
    unsigned emitted;   /* 1: write the end tag when done */
    struct san_ctx ctx; /* context for the children */
};

struct san_walk {
    struct san_buf out;
    struct san_frame *stack;
    size_t n, cap;
    int text_mode;      /* sanitize_text_content: text only */
    int after_pre_open; /* the last thing written was <pre> */
};

static int san_push(struct san_walk *w, const GumboNode *node, int emitted, struct san_ctx ctx)
{
    if (w->n == w->cap) {
        size_t cap = w->cap == 0 ? 64 : w->cap * 2;
        struct san_frame *s = realloc(w->stack, cap * sizeof(*s));
        if (s == NULL) {
            w->out.err = SANITIZE_ENOMEM;
            return -1;
        }
        w->stack = s;
        w->cap = cap;
    }
    w->stack[w->n++] = (struct san_frame){node, 0, (unsigned)emitted, ctx};
    return 0;
}

static int san_is_html_space(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\f' && *s != '\r')
            return 0;
    return 1;
}

/* Room for table > tbody > tr > td under the depth cap, so cells never get flattened into a
 * row (their text would be moved out of the table on re-parse). */
#define SAN_TABLE_DEPTH 4

/* Whether an allowlisted element may be emitted here without re-parsing differently. */
static int san_fits(const GumboElement *e, unsigned flags, const struct san_ctx *c)
{
    GumboTag t = e->tag, p = c->parent;
    unsigned pflags = p == GUMBO_TAG_LAST ? 0 : san_tag_flags(p);
    if (c->depth + (t == GUMBO_TAG_TABLE ? SAN_TABLE_DEPTH : 1) > SANITIZE_MAX_DEPTH)
        return 0;
    switch (t) {
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_COLGROUP:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TFOOT:
        return p == GUMBO_TAG_TABLE;
    case GUMBO_TAG_TR:
        return p == GUMBO_TAG_THEAD || p == GUMBO_TAG_TBODY || p == GUMBO_TAG_TFOOT;
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
        return p == GUMBO_TAG_TR;
    case GUMBO_TAG_COL:
        return p == GUMBO_TAG_COLGROUP;
    default:
        break;
    }
    if (pflags & SAN_F_TABLECTX)
        return 0;
    if ((flags & SAN_F_BLOCK) && c->in_p)
        return 0;
    if (t == GUMBO_TAG_LI && c->in_li)
        return 0;
    if (t == GUMBO_TAG_A && (c->in_a || !san_has_link(e)))
        return 0;
    return !((flags & SAN_F_HEADING) && (pflags & SAN_F_HEADING));
}

static enum san_action san_decide(const GumboNode *node, const struct san_ctx *c)
{
    if (node->type == GUMBO_NODE_TEMPLATE)
        return SAN_DROP;
    const GumboElement *e = &node->v.element;
    if (e->tag_namespace != GUMBO_NAMESPACE_HTML || san_tag_is_dropped(e->tag))
        return SAN_DROP;
    unsigned flags = san_tag_flags(e->tag);
    if ((flags & SAN_F_ALLOWED) && san_fits(e, flags, c))
        return SAN_EMIT;
    return SAN_UNWRAP;
}

static struct san_ctx san_child_ctx(struct san_ctx c, GumboTag t)
{
    unsigned flags = san_tag_flags(t);
    c.parent = t;
    c.depth++;
    c.in_p |= t == GUMBO_TAG_P;
    c.in_li = t == GUMBO_TAG_LI ? 1 : (flags & SAN_F_LISTOP) ? 0 : c.in_li;
    c.in_a = t == GUMBO_TAG_A ? 1 : (flags & SAN_F_MARKER) ? 0 : c.in_a;
    return c;
}

static void san_visit_text(struct san_walk *w, const GumboNode *node, const struct san_ctx *c)
{
    const char *s = node->v.text.text;
    size_t n = strlen(s);
    if (w->text_mode) {
        san_buf_put(&w->out, s, n);
        return;
    }
    /* Text directly in a table would be moved before the table when re-parsed: the parser
     * never leaves any there, and we never put any there. */
    if (c->parent != GUMBO_TAG_LAST && (san_tag_flags(c->parent) & SAN_F_TABLECTX) && !san_is_html_space(s))
        return;
    if (n == 0)
        return;
    /* The parser drops one newline right after <pre>: write one more so the text survives. */
    if (w->after_pre_open && s[0] == '\n')
        san_buf_puts(&w->out, "\n");
    w->after_pre_open = 0;
    san_buf_escape(&w->out, s, n);
}

/* Text mode: blocks, rows and <br> start a new line, cells are separated by a tab. */
static void san_text_separator(struct san_walk *w, GumboTag t)
{
    struct san_buf *b = &w->out;
    if (b->len == 0)
        return;
    char last = b->data[b->len - 1];
    if (t == GUMBO_TAG_BR)
        san_buf_puts(b, "\n");
    else if (t == GUMBO_TAG_TD || t == GUMBO_TAG_TH)
        san_buf_puts(b, last == '\n' || last == '\t' ? "" : "\t");
    else if (last != '\n' && (san_tag_flags(t) & (SAN_F_BLOCK | SAN_F_TABLECTX | SAN_F_MARKER)))
        san_buf_puts(b, "\n");
}

static void san_visit_element(struct san_walk *w, const GumboNode *node, const struct san_ctx *c)
{
    enum san_action act = san_decide(node, c);
    if (act == SAN_DROP)
        return;
    const GumboElement *e = &node->v.element;
    if (w->text_mode) {
        san_text_separator(w, e->tag);
        san_push(w, node, 0, *c);
        return;
    }
    if (act == SAN_UNWRAP) {
        san_push(w, node, 0, *c);
        return;
    }
    san_emit_start_tag(&w->out, e);
    w->after_pre_open = e->tag == GUMBO_TAG_PRE;
    /* A void element has no children; were there any, they would follow it as siblings. */
    if (san_tag_flags(e->tag) & SAN_F_VOID)
        san_push(w, node, 0, *c);
    else
        san_push(w, node, 1, san_child_ctx(*c, e->tag));
}

static void san_visit(struct san_walk *w, const GumboNode *node, const struct san_ctx *c)
{
    switch (node->type) {
    case GUMBO_NODE_TEXT:
    case GUMBO_NODE_WHITESPACE:
    case GUMBO_NODE_CDATA:
        san_visit_text(w, node, c);
        break;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE:
        san_visit_element(w, node, c);
        break;
    default: /* comments; the document node is never a child */
        break;
    }
}

static void san_leave(struct san_walk *w, const struct san_frame *f)
{
    GumboTag t = f->node->v.element.tag;
    if (w->text_mode) {
        if (f->node->type == GUMBO_NODE_ELEMENT && (san_tag_flags(t) & (SAN_F_BLOCK | SAN_F_TABLECTX)))
            san_text_separator(w, GUMBO_TAG_P);
        return;
    }
    if (!f->emitted)
        return;
    san_buf_puts(&w->out, "</");
    san_buf_puts(&w->out, gumbo_normalized_tagname(t));
    san_buf_puts(&w->out, ">");
    w->after_pre_open = 0;
}

/* Depth-first over the tree with an explicit stack: gumbo happily builds 100k-deep trees. */
static void san_walk_tree(struct san_walk *w, const GumboNode *root)
{
    struct san_ctx top = {GUMBO_TAG_LAST, 0, 0, 0, 0};
    if (san_push(w, root, 0, top) != 0)
        return;
    while (w->n > 0 && w->out.err == 0) {
        struct san_frame *f = &w->stack[w->n - 1];
        const GumboVector *kids = &f->node->v.element.children;
        if (f->next >= kids->length) {
            san_leave(w, f);
            w->n--;
            continue;
        }
        const GumboNode *child = kids->data[f->next++];
        struct san_ctx c = f->ctx; /* copy: san_visit may move the stack */
        san_visit(w, child, &c);
    }
}

/* ---- plain text ------------------------------------------------------------------------------ */

/* 1 when the body is valid UTF-8 without '<' or '&': the parser would make one text node of it,
 * changing nothing but CR and CRLF (to LF) and NUL (dropped). */
static int san_is_plain_text(const char *in, size_t len)
{
    const unsigned char *u = (const unsigned char *)in;
    for (size_t i = 0; i < len;) {
        if (u[i] == '<' || u[i] == '&')
            return 0;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = san_utf8_len(u + i, len - i);
        if (n == 0)
            return 0; /* invalid UTF-8: the parser decides how many U+FFFD it makes */
        i += n;
    }
    return 1;
}

/* What san_run gives for a plain-text body, without the parser: the same escaping of the same
 * text, after the parser's newline normalisation. */
static int san_plain_text(const char *in, size_t len, char **out, size_t *outlen)
{
    struct san_buf b = {0};
    b.max = len > (SIZE_MAX - SAN_BUDGET_BASE) / SAN_BUDGET_FACTOR ? SIZE_MAX : SAN_BUDGET_BASE + SAN_BUDGET_FACTOR * len;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '\r')
            continue;
        san_buf_escape(&b, in + start, i - start);
        san_buf_puts(&b, "\n");
        if (i + 1 < len && in[i + 1] == '\n')
            i++;
        start = i + 1;
    }
    san_buf_escape(&b, in + start, len - start);
    san_buf_put(&b, "", 0);
    if (b.err == 0 && b.data == NULL)
        b.data = calloc(1, 1);
    if (b.err == 0 && b.data == NULL)
        b.err = SANITIZE_ENOMEM;
    if (b.err != 0) {
        free(b.data);
        return b.err;
    }
    *out = b.data;
    *outlen = b.len;
    return SANITIZE_OK;
}

/* Shared driver: parse, walk, hand over the buffer. */
static int san_run(const char *in, size_t len, int text_mode, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (!text_mode && san_is_plain_text(in, len))
        return san_plain_text(in, len, out, outlen);
    /* Refused before the parser sees it: see the pre-scan above and docs/security.md. */
    struct san_body_ends ends;
    if (san_prescan(in, len, NULL, &ends) > SANITIZE_MAX_NESTING)
        return SANITIZE_TOO_COMPLEX;
    char *fixed = NULL;
    if (ends.n > 0 || ends.more) {
        if ((fixed = malloc(len)) == NULL)
            return SANITIZE_ENOMEM;
        memcpy(fixed, in, len);
        if (ends.more)
            san_prescan(in, len, fixed, &ends);
        else
            for (size_t k = 0; k < ends.n; k++)
                fixed[ends.pos[k] + 1] = '!';
        in = fixed;
    }
    struct san_arena ar = {0};
    GumboOutput *doc = san_parse(&ar, in, len);
    if (doc == NULL) {
        san_arena_free(&ar);
        free(fixed);
        return ar.err != 0 ? ar.err : SANITIZE_ENOMEM;
    }
    struct san_walk w = {0};
    w.text_mode = text_mode;
    w.out.max = ar.budget;
    san_walk_tree(&w, doc->root);
    san_buf_put(&w.out, "", 0);
    if (w.out.err == 0 && w.out.data == NULL)
        w.out.data = calloc(1, 1);
    if (w.out.err == 0 && w.out.data == NULL)
        w.out.err = SANITIZE_ENOMEM;
    san_arena_free(&ar);
    free(fixed);
    free(w.stack);
    if (w.out.err != 0) {
        free(w.out.data);
        return w.out.err;
    }
    *out = w.out.data;
    *outlen = w.out.len;
    return SANITIZE_OK;
}

int sanitize_html(const char *in, size_t len, char **out, size_t *outlen)
{
    return san_run(in, len, 0, out, outlen);
}

int sanitize_text_content(const char *in, size_t len, char **out, size_t *outlen)
{
    int rc = san_run(in, len, 1, out, outlen);
    /* The separators leave at most one newline at the end: drop it. */
    if (rc == SANITIZE_OK && *outlen > 0 && (*out)[*outlen - 1] == '\n')
        (*out)[--*outlen] = '\0';
    return rc;
}
