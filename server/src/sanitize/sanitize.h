/*
 * sanitize.h: the HTML sanitizer for ticket and message bodies. Bodies are parsed as a browser
 * would (HTML5, libgumbo, as the content of <body>), reduced to an allowlist of elements and
 * attributes, and serialised again with correct escaping. The contract (what is kept, what is
 * dropped, and why) is in docs/security.md, section "Sanitization".
 *
 * Guarantees of sanitize_html's output:
 *   - only allowlisted HTML elements and attributes, every URL with an allowed scheme;
 *   - well-formed: it parses back to the tree it was serialised from, so
 *     sanitize_html(sanitize_html(x)) == sanitize_html(x), byte for byte;
 *   - valid UTF-8 without NUL bytes, whatever the input.
 *
 * Callers: check the 50,000-character limit on the INPUT, before sanitizing, with
 * utf8_length() from common/util.h (it counts code points), after rejecting invalid UTF-8 with
 * utf8_find_invalid(). NUL bytes need no special care: they are handled as the HTML5 parser
 * does (dropped from text, U+FFFD inside attribute values).
 *
 * Pure C: no h2o, no libpq. Thread-safe (no global state).
 */
#ifndef HDF_SANITIZE_H
#define HDF_SANITIZE_H

#include <stddef.h>

/* Longest ticket or message body, in characters (code points), checked before sanitizing. */
#define HDF_BODY_MAX_CHARS 50000

/* Return values of sanitize_html and sanitize_text_content. */
#define SANITIZE_OK 0
/* Out of memory. */
#define SANITIZE_ENOMEM (-1)
/* The input would make the parser or the output exceed the memory budget (64 times the input
 * plus 16 MiB, e.g. hostile markup that clones long attributes thousands of times), or it may
 * nest deeper than SANITIZE_MAX_NESTING, or it is markup libgumbo is known to crash on (a
 * <select> inside SVG/MathML). A caller answers 400 (field body, code too_complex): no real email gets near any of these.
 * sanitize_nesting_bound() > SANITIZE_MAX_NESTING tells the last two ("body nesting too deep"). */
#define SANITIZE_TOO_COMPLEX (-2)

/* Nesting the parser is allowed to see. gumbo's scope checks cost time in the square of the
 * depth of its stack of open elements (10,000 nested <div>s: a quarter of a second), so before
 * parsing, a linear pre-scan bounds that depth from above (sanitize_nesting_bound); a body whose
 * bound exceeds this is refused with SANITIZE_TOO_COMPLEX, which the API answers with 400 (body,
 * too_complex). Real email HTML stays under about 40. The same scan refuses markup known to
 * crash libgumbo 0.10.1 and neutralises </body> and </html> (see docs/security.md). */
#define SANITIZE_MAX_NESTING 256

/* Elements nested deeper than this in the output are unwrapped (their text is kept, their
 * markup dropped), so that neither our walk nor a browser's renderer deals with unbounded
 * depth. The walk itself uses an explicit stack and has no depth limit. */
#define SANITIZE_MAX_DEPTH 128

/*
 * An upper bound on the depth of the tree (and of the stack of open elements) the HTML parser
 * builds for len bytes of body content: a linear scan with a tokenizer and a pessimistic model of
 * the tree builder. Counting stops past SANITIZE_MAX_NESTING: any larger result only says "too
 * deep". Exported for tests and for callers that want to tell this refusal from others.
 */
size_t sanitize_nesting_bound(const char *in, size_t len);

/*
 * Sanitizes len bytes of HTML (UTF-8; invalid sequences become U+FFFD). On SANITIZE_OK, *out
 * is a malloc'd, NUL-terminated string of *outlen bytes that the caller frees. On error, *out
 * is NULL.
 */
int sanitize_html(const char *in, size_t len, char **out, size_t *outlen);

/*
 * The text of the same HTML without markup, for automation conditions on message.body: text
 * nodes concatenated with entities decoded; block elements and <br> start new lines, table
 * cells are separated by a tab; dropped elements (script, style, ...) contribute nothing.
 * Same return values and ownership as sanitize_html.
 */
int sanitize_text_content(const char *in, size_t len, char **out, size_t *outlen);

#endif
