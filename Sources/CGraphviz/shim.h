#include <graphviz/gvc.h>
#include <graphviz/cgraph.h>
#include <stdlib.h>
#include <string.h>

/* Reading DOT text with object IDs in creation order.
 *
 * cgraph's default ID discipline gives a named object the address of its interned name as its
 * ID, and iterates subgraphs in ID order: the order clusters are written to SVG/PNG then depends
 * on the heap, so two renders of the same DOT text could differ in byte order. This discipline
 * numbers names in the order they are first seen (even IDs; anonymous objects keep odd ones), so
 * a render depends on the DOT text alone. */

typedef struct { char **names; size_t count, capacity; unsigned long anon; } convlens_ids_t;
typedef struct { const char *data; size_t len, cur; } convlens_reader_t;

static void *convlens_id_open(Agraph_t *g, Agdisc_t *disc) {
    (void)g; (void)disc;
    return calloc(1, sizeof(convlens_ids_t));
}

static long convlens_id_map(void *state, int objtype, char *str, IDTYPE *id, int createflag) {
    convlens_ids_t *s = (convlens_ids_t *)state;
    (void)objtype;
    if (str == NULL) { *id = 2 * (IDTYPE)(s->anon++) + 1; return 1; }
    for (size_t i = 0; i < s->count; i++) {          /* a few thousand names: a scan is fine */
        if (strcmp(s->names[i], str) == 0) { *id = 2 * (IDTYPE)(i + 1); return 1; }
    }
    if (!createflag) return 0;
    if (s->count == s->capacity) {
        size_t cap = s->capacity ? 2 * s->capacity : 256;
        char **grown = (char **)realloc(s->names, cap * sizeof(char *));
        if (grown == NULL) return 0;
        s->names = grown; s->capacity = cap;
    }
    char *copy = strdup(str);
    if (copy == NULL) return 0;
    s->names[s->count++] = copy;
    *id = 2 * (IDTYPE)s->count;
    return 1;
}

static long convlens_id_alloc(void *state, int objtype, IDTYPE id) { (void)state; (void)objtype; (void)id; return 0; }
static void convlens_id_free(void *state, int objtype, IDTYPE id) { (void)state; (void)objtype; (void)id; }

static char *convlens_id_print(void *state, int objtype, IDTYPE id) {
    convlens_ids_t *s = (convlens_ids_t *)state;
    (void)objtype;
    if (id % 2 == 0 && id / 2 >= 1 && (size_t)(id / 2) <= s->count) return s->names[id / 2 - 1];
    return NULL;
}

static void convlens_id_close(void *state) {
    convlens_ids_t *s = (convlens_ids_t *)state;
    for (size_t i = 0; i < s->count; i++) free(s->names[i]);
    free(s->names);
    free(s);
}

static void convlens_id_register(void *state, int objtype, void *obj) { (void)state; (void)objtype; (void)obj; }

static int convlens_read(void *chan, char *buf, int bufsize) {
    convlens_reader_t *r = (convlens_reader_t *)chan;
    if (bufsize <= 0 || r->cur >= r->len) return 0;
    int n = 0;
    char c;
    do { c = r->data[r->cur++]; buf[n++] = c; } while (c != '\n' && n < bufsize && r->cur < r->len);
    return n;
}

/* agmemread with the discipline above. */
static inline Agraph_t *convlens_read_dot(const char *text) {
    static Agiddisc_t ids = { convlens_id_open, convlens_id_map, convlens_id_alloc, convlens_id_free,
                              convlens_id_print, convlens_id_close, convlens_id_register };
    static Agiodisc_t io;
    io.afread = convlens_read;
    io.putstr = AgIoDisc.putstr;
    io.flush = AgIoDisc.flush;
    Agdisc_t disc = { &AgMemDisc, &ids, &io };
    convlens_reader_t reader = { text, strlen(text), 0 };
    return agread(&reader, &disc);
}
