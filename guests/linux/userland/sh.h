/* The shell's parts: sh.c (words, the command line), sh_var.c (variables), sh_run.c
 * (running pipelines, redirections), sh_builtin.c, sh_flow.c (if, while, for), sh_expr.c
 * ($((EXPR))), sh_line.c (the line editor, history, completion). */
#ifndef SH_H
#define SH_H

#include "box.h"

#define SH_MAXARGS 64
#define SH_MAXREDIR 8
#define SH_MAXCMDS 8
#define SH_WORDBUF 8192

struct redir {
  int fd;        /* the descriptor redirected: 0 for <, 1 for > and >> (or N>) */
  char op;       /* '<', '>', 'a' (>>), '&' (N>&M) */
  char *target;  /* a file name, or for '&' the descriptor as text */
};

struct cmd {
  char *argv[SH_MAXARGS + 1];
  int argc;
  struct redir redirs[SH_MAXREDIR];
  int nredir;
  char *assigns[8]; /* NAME=VALUE words before the command */
  int nassign;
};

struct pipeline {
  struct cmd cmds[SH_MAXCMDS];
  int n;
  int background; /* ended by & */
};

/* sh.c */
extern int sh_status;      /* $? */
extern int sh_interactive;
int sh_run_text(const char *text); /* run lines of commands; returns the last status */
void sh_exit(int status) __attribute__((noreturn));
char **sh_words(const char *text); /* the expanded words, one malloc'd block (free it); 0 on error */
void put_char(char c);      /* append to the words being built */
void put_str(const char *s);
char *word_end(void);       /* where the next put_char goes */
char *unmark(char *w);      /* pattern marks (\1 \2) and split marks (\3) back to * ? and blank */

/* sh_glob.c */
void add_field(struct cmd *c, char *w, int glob); /* w, or the names its pattern matches */

/* sh_var.c */
const char *var_get(const char *name);
int var_set(const char *name, const char *value, int export); /* export: 1 yes, 0 keep, -1 no */
void var_unset(const char *name);
void var_list(int exported_only);
char **var_environ(void);  /* NAME=VALUE of the exported variables, for execve */

/* sh_expr.c: $((EXPR)) */
int sh_arith(const char *text, s64 *value); /* 1 if EXPR was well formed */

/* sh_flow.c: if, while, for */
extern int sh_loops;   /* loops running (break and continue only inside one) */
extern char sh_jump;   /* 'b' after break, 'c' after continue: the commands left are skipped */
int flow_at(const char *p); /* 1 if a compound command starts at p */
const char *flow_run(const char *p, int run, int *status, int *op);

/* sh_run.c */
extern int sh_interrupted; /* a command ended by SIGINT (^C), which ends loops */
int run_pipeline(struct pipeline *p);
void reap_background(void); /* collect the commands started with & that have ended */

int sh_source(const char *path, int argc, char **argv); /* sh FILE, . FILE */
int sh_capture(const char *cmd, char *out, size_t size); /* $(CMD): sh -c CMD's output */

/* sh_builtin.c */
int is_builtin(const char *name);
int run_builtin(struct cmd *c, int *status); /* 1 if c was a builtin (status set) */

/* sh_line.c */
int line_read(const char *prompt, char *buf, size_t size); /* length, or -1 at end of input */
void history_add(const char *line);
void history_print(void);
void term_restore(void);

#endif
