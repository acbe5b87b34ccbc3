/*
 * statements.h: every SQL statement the server sends, by name. The text lives in statements.c
 * (and nowhere else); each is prepared on every connection when it is established.
 */
#ifndef HDF_STATEMENTS_H
#define HDF_STATEMENTS_H

enum hdf_stmt {
    HDF_STMT_AUTH_LOOKUP,
    HDF_STMT_READY,
    HDF_STMT_API_KEYS_LIST,
    HDF_STMT_API_KEY_GET,
    HDF_STMT_API_KEY_UPDATE_LABEL,
    HDF_STMT__COUNT
};

struct hdf_statement {
    const char *name; /* prepared statement name */
    const char *sql;
    int nparams;
};

extern const struct hdf_statement hdf_statements[HDF_STMT__COUNT];
/* Run once on each new connection, before statements are prepared. */
extern const char hdf_session_setup_sql[];

#endif
