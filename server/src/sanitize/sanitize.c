/*
 * sanitize.c: HTML sanitizer for ticket and message bodies (see sanitize.h and the
 * "Sanitization" section of docs/security.md).
 *
 * Three steps: libgumbo parses the body as a browser parses the content of <body>; an
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

/* Shared driver: parse, walk, hand over the buffer. */
static int san_run(const char *in, size_t len, int text_mode, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    struct san_arena ar = {0};
    GumboOutput *doc = san_parse(&ar, in, len);
    if (doc == NULL) {
        san_arena_free(&ar);
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
