/* rope_check.c: check a naive C99 RoPE against refrope's golden vectors (flat text format).
 *
 *   rope_check [--float] rope_apply_v2.txt
 *
 * Reads the text file written by `refrope vectors export` (docs/vectors/text.md), rotates every
 * test's input with its own RoPE (three layouts, a rotary slice at an offset, magnitude m), and
 * compares each output coordinate with the float64 expected value within the golden-vector budget
 * (docs/spec/vectors.md, GV-BUDGET-1):
 *
 *   rotated coordinate of a pair with input norm r at angle phi = |p w|:
 *       |out - expected| <= m r (8 u + 4 u_a (1 + phi)) + 4 eta
 *   coordinate outside the rotary slice: out == expected exactly
 *
 * u, eta: unit roundoff and smallest subnormal of the case's dtype; u_a: unit roundoff of the type
 * the angles are computed in (double by default, float with --float). Prints "N passed, M failed"
 * and exits 1 if any test failed, 2 on a malformed file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN 64

static FILE *in;
static char tok[TOKEN];

static void fail_parse(const char *what) {
    fprintf(stderr, "rope_check: malformed vector file: expected %s, got '%s'\n", what, tok);
    exit(2);
}

static const char *next(void) {
    if (fscanf(in, "%63s", tok) != 1) {
        tok[0] = '\0';
        fail_parse("another token");
    }
    return tok;
}

static void expect(const char *word) {
    if (strcmp(next(), word) != 0) fail_parse(word);
}

static long read_long(void) {
    char *end;
    long v = strtol(next(), &end, 10);
    if (*end != '\0') fail_parse("an integer");
    return v;
}

static double read_double(void) { /* C99 strtod reads the hex floats exactly */
    char *end;
    double v = strtod(next(), &end);
    if (*end != '\0') fail_parse("a C99 hex float");
    return v;
}

static double *read_array(const char *label, long n) {
    double *a = malloc((size_t)(n > 0 ? n : 1) * sizeof *a);
    if (!a) { fprintf(stderr, "rope_check: out of memory\n"); exit(2); }
    expect(label);
    for (long i = 0; i < n; i++) a[i] = read_double();
    return a;
}

/* unit roundoff and smallest subnormal of a dtype name */
static int dtype_constants(const char *dtype, double *u, double *eta) {
    if (strcmp(dtype, "float64") == 0) { *u = ldexp(1.0, -53); *eta = ldexp(1.0, -1074); }
    else if (strcmp(dtype, "float32") == 0) { *u = ldexp(1.0, -24); *eta = ldexp(1.0, -149); }
    else if (strcmp(dtype, "float16") == 0) { *u = ldexp(1.0, -11); *eta = ldexp(1.0, -24); }
    else if (strcmp(dtype, "bfloat16") == 0) { *u = ldexp(1.0, -8); *eta = ldexp(1.0, -133); }
    else return 0;
    return 1;
}

/* Where pair i of the rotary slice is read from and written to (docs/spec/layouts.md). */
static void pair_index(const char *layout, long i, long d, int output, long *a, long *b) {
    int half = strcmp(layout, "half") == 0 || (output && strcmp(layout, "interleaved_to_half") == 0);
    if (half) { *a = i; *b = i + d / 2; }
    else { *a = 2 * i; *b = 2 * i + 1; }
}

/* The naive RoPE: out = x outside the slice; m R(p) x on each pair inside it. */
static void rope(const double *x, double *out, const double *pos, const double *w, long seq, long head, long off,
                 long d, double m, const char *layout, int in_float) {
    for (long r = 0; r < seq; r++) {
        const double *xr = x + r * head;
        double *o = out + r * head;
        for (long j = 0; j < head; j++) o[j] = xr[j];
        for (long i = 0; i < d / 2; i++) {
            long ia, ib, oa, ob;
            pair_index(layout, i, d, 0, &ia, &ib);
            pair_index(layout, i, d, 1, &oa, &ob);
            double a = xr[off + ia], b = xr[off + ib];
            if (in_float) {
                float phi = (float)pos[r] * (float)w[i];
                float c = (float)m * cosf(phi), s = (float)m * sinf(phi);
                float fa = (float)a, fb = (float)b;
                o[off + oa] = fa * c - fb * s;
                o[off + ob] = fb * c + fa * s;
            } else {
                double phi = pos[r] * w[i];
                double c = m * cos(phi), s = m * sin(phi);
                o[off + oa] = a * c - b * s;
                o[off + ob] = b * c + a * s;
            }
        }
    }
}

/* Returns the number of coordinates outside the budget (and prints the first). */
static long check(long tc, const double *x, const double *out, const double *want, const double *pos,
                  const double *w, long seq, long head, long off, long d, double m, const char *layout,
                  double u, double ua, double eta) {
    long bad = 0;
    for (long r = 0; r < seq; r++) {
        double *budget = calloc((size_t)head, sizeof *budget); /* 0 outside the rotary slice */
        if (!budget) { fprintf(stderr, "rope_check: out of memory\n"); exit(2); }
        for (long i = 0; i < d / 2; i++) {
            long ia, ib, oa, ob;
            pair_index(layout, i, d, 0, &ia, &ib);
            pair_index(layout, i, d, 1, &oa, &ob);
            double norm = hypot(x[r * head + off + ia], x[r * head + off + ib]);
            double phi = fabs(pos[r] * w[i]);
            double b = m * norm * (8.0 * u + 4.0 * ua * (1.0 + phi)) + 4.0 * eta;
            budget[off + oa] = b;
            budget[off + ob] = b;
        }
        for (long j = 0; j < head; j++) {
            double got = out[r * head + j], exp_ = want[r * head + j];
            if (!(fabs(got - exp_) <= budget[j])) {
                if (bad == 0)
                    fprintf(stderr, "tcId %ld: row %ld col %ld: got %.17g, expected %.17g, budget %.3g\n", tc, r, j,
                            got, exp_, budget[j]);
                bad++;
            }
        }
        free(budget);
    }
    return bad;
}

int main(int argc, char **argv) {
    int in_float = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--float") == 0) in_float = 1;
        else path = argv[i];
    }
    if (!path) { fprintf(stderr, "usage: rope_check [--float] rope_apply_vV.txt\n"); return 2; }
    in = fopen(path, "r");
    if (!in) { perror(path); return 2; }
    expect("refrope-vectors");
    expect("apply_rope");
    long version = read_long(), count = read_long(), passed = 0, failed = 0;
    double ua = ldexp(1.0, in_float ? -24 : -53);
    for (long t = 0; t < count; t++) {
        expect("test");
        long tc = read_long();
        char layout[TOKEN], dtype[TOKEN];
        strcpy(layout, next());
        long head = read_long(), off = read_long(), d = read_long(), seq = read_long();
        strcpy(dtype, next());
        double max_angle = read_double(), m = read_double(), u, eta;
        (void)max_angle; /* the per-pair angles give a tighter budget; maxAngle bounds them all */
        if (!dtype_constants(dtype, &u, &eta)) fail_parse("a dtype");
        if (strcmp(layout, "half") && strcmp(layout, "interleaved") && strcmp(layout, "interleaved_to_half"))
            fail_parse("a layout");
        if (d < 2 || d % 2 || off < 0 || off + d > head || seq < 1) fail_parse("a consistent shape");
        double *w = read_array("inv_freq", d / 2), *pos = read_array("positions", seq);
        double *x = read_array("x", seq * head), *want = read_array("expected", seq * head);
        double *out = malloc((size_t)(seq * head) * sizeof *out);
        if (!out) { fprintf(stderr, "rope_check: out of memory\n"); return 2; }
        rope(x, out, pos, w, seq, head, off, d, m, layout, in_float);
        if (check(tc, x, out, want, pos, w, seq, head, off, d, m, layout, u, ua, eta)) failed++;
        else passed++;
        free(w); free(pos); free(x); free(want); free(out);
    }
    expect("end");
    fclose(in);
    printf("%ld passed, %ld failed (format version %ld, angles in %s)\n", passed, failed, version,
           in_float ? "float" : "double");
    return failed ? 1 : 0;
}
