/*
 * Running what sh.c parsed. Programs start with vfork + execve (no-MMU Linux has no fork):
 * the child shares the shell's memory until it execs, so between the two it only moves
 * descriptors, opens redirections and resets signals. A file that is not a binary
 * (ENOEXEC: a script, with or without #!, since neither kernel has BINFMT_SCRIPT) is run
 * by /bin/sh. Builtins run in the shell itself, their redirections undone after.
 */
#include "sh.h"

/* vfork_raw returns twice; gcc then suspects the registers of inlined system calls. */
#pragma GCC diagnostic ignored "-Wclobbered"

/* The program for NAME: NAME itself if it has a /, else the first DIR/NAME on $PATH. */
static int find_program(const char *name, char *path, size_t size) {
  struct stat st;
  if (strchr(name, '/')) return strlcpy(path, name, size), 1;
  const char *dirs = var_get("PATH");
  for (const char *p = dirs ? dirs : "/bin"; *p;) {
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char dir[256];
    if (n < sizeof dir) {
      memcpy(dir, p, n), dir[n] = 0;
      path_join(path, size, n ? dir : ".", name);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return 1;
    }
    p += n + (end != 0);
  }
  return 0;
}

/* Apply c's redirections to this process; -1 (after a message) if one fails. */
static int apply_redirs(struct cmd *c) {
  for (int i = 0; i < c->nredir; i++) {
    struct redir *r = &c->redirs[i];
    int fd;
    if (r->op == '&') {
      u64 from;
      if (!parse_u64(r->target, &from)) return warn_msg("sh", "bad descriptor after >&"), -1;
      fd = (int)from;
      if (dup2(fd, r->fd) < 0) return warn("sh", r->target), -1;
      continue;
    }
    int flags = r->op == '<' ? O_RDONLY : r->op == 'a' ? O_WRONLY | O_CREAT | O_APPEND : O_WRONLY | O_CREAT | O_TRUNC;
    fd = open(r->target, flags, 0644);
    if (fd < 0) return warn("sh", r->target), -1;
    if (fd != r->fd) dup2(fd, r->fd), close(fd);
  }
  return 0;
}

/* Start one command of a pipeline: its input and output are IN and OUT (0 and 1 if not
 * piped); CLOSE is the other end of a pipe, not for the child. The child's pid, or -1. */
static pid_t spawn(struct cmd *c, int in, int outfd, int close_fd) {
  char path[512];
  char *script_argv[SH_MAXARGS + 2];
  char *env[80];
  int found = find_program(c->argv[0], path, sizeof path), n = 0;
  /* NAME=VALUE before the command: in its environment only, ahead of the shell's */
  for (int i = 0; i < c->nassign; i++) env[n++] = c->assigns[i];
  for (char **e = var_environ(); *e && n < 79; e++) env[n++] = *e;
  env[n] = 0;
  pid_t pid = vfork_raw();
  if (pid == 0) {
    if (in != 0) dup2(in, 0), close(in);
    if (outfd != 1) dup2(outfd, 1), close(outfd);
    if (close_fd >= 0) close(close_fd);
    if (apply_redirs(c) < 0) _exit(1);
    ignore_signal(2, 0), ignore_signal(3, 0); /* SIGINT, SIGQUIT back to default */
    if (!found) {
      fdout(2, "sh: "), fdout(2, c->argv[0]), fdout(2, ": not found\n");
      _exit(127);
    }
    execve(path, c->argv, env);
    if (errno == ENOEXEC) {
      script_argv[0] = "sh", script_argv[1] = path;
      for (int i = 1; i <= c->argc; i++) script_argv[i + 1] = c->argv[i];
      execve("/bin/sh", script_argv, env);
    }
    warn("sh", c->argv[0]);
    _exit(126);
  }
  if (pid < 0) errno = -pid, warn("sh", "vfork");
  return pid < 0 ? -1 : pid;
}

int sh_interrupted;

static int wait_status(pid_t pid) {
  int status = 0;
  while (wait_child(pid, &status) < 0)
    if (errno != EINTR) return 127;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WTERMSIG(status) == 2) out("\n"), sh_interrupted = 1; /* ^C */
  return 128 + WTERMSIG(status);
}

void reap_background(void) {
  int info[32];
  /* waitid(P_ALL, 0, info, WEXITED | WNOHANG): 0 with no pid in info when none has ended */
  for (int i = 0; i < 64; i++) {
    memset(info, 0, sizeof info);
    if (my_syscall5(__NR_waitid, 0, 0, info, 4 | 1, 0) < 0 || info[3] == 0) break;
  }
}

/* A builtin in the shell, with its redirections (and pipe ends) applied and undone. */
static int run_builtin_with(struct cmd *c, int in, int outfd, int *status) {
  int saved[3];
  for (int fd = 0; fd < 3; fd++) saved[fd] = (int)my_syscall3(__NR_fcntl64, fd, F_DUPFD_CLOEXEC, 10);
  if (in != 0) dup2(in, 0);
  if (outfd != 1) dup2(outfd, 1);
  int builtin = 1;
  if (apply_redirs(c) < 0) *status = 1;
  else if (c->argc) builtin = run_builtin(c, status);
  for (int fd = 0; fd < 3; fd++)
    if (saved[fd] >= 0) dup2(saved[fd], fd), close(saved[fd]);
  return builtin;
}

int run_pipeline(struct pipeline *p) {
  pid_t pids[SH_MAXCMDS];
  int in = 0, status = 0, n = p->n;
  term_restore();
  for (int i = 0; i < n; i++) {
    struct cmd *c = &p->cmds[i];
    int pipefd[2] = {-1, 1};
    pids[i] = -1;
    if (i + 1 < n && pipe2(pipefd, O_CLOEXEC) < 0) { /* no more: wait for those started */
      warn("sh", "pipe");
      if (in != 0) close(in);
      n = i, status = 1;
      break;
    }
    if (!c->argc) { /* assignments alone set shell variables */
      for (int k = 0; k < c->nassign; k++) {
        char *eq = strchr(c->assigns[k], '=');
        *eq = 0, var_set(c->assigns[k], eq + 1, 0), *eq = '=';
      }
      status = 0;
      run_builtin_with(c, in, pipefd[1], &status); /* redirections alone: files made */
    } else if (is_builtin(c->argv[0])) {
      run_builtin_with(c, in, pipefd[1], &status);
    } else {
      pids[i] = spawn(c, in, pipefd[1], pipefd[0]);
      if (pids[i] < 0) status = 127;
    }
    if (in != 0) close(in);
    if (pipefd[1] != 1) close(pipefd[1]);
    in = pipefd[0];
  }
  if (p->background) {
    for (int i = 0; i < n; i++)
      if (pids[i] > 0) outu((u64)pids[i], 0), out("\n");
    return 0;
  }
  for (int i = 0; i < n; i++) {
    if (pids[i] <= 0) continue;
    int s = wait_status(pids[i]);
    if (i == p->n - 1) status = s;
  }
  return status;
}

/* $(CMD): /bin/sh -c CMD (a new shell: it sees the exported variables only), its output
 * into out without the last newlines (at most size - 1 bytes: the rest is read and
 * dropped); the status. */
int sh_capture(const char *cmd, char *out, size_t size) {
  int fds[2];
  char *argv[] = {"sh", "-c", (char *)cmd, 0};
  out[0] = 0;
  if (pipe2(fds, O_CLOEXEC) < 0) return warn("sh", "pipe"), 1;
  char **env = var_environ();
  pid_t pid = vfork_raw();
  if (pid == 0) {
    dup2(fds[1], 1);
    ignore_signal(2, 0), ignore_signal(3, 0);
    execve("/bin/sh", argv, env);
    _exit(127);
  }
  close(fds[1]);
  size_t len = 0;
  ssize_t n;
  char drop[256];
  while ((n = read(fds[0], len + 1 < size ? out + len : drop, len + 1 < size ? size - 1 - len : sizeof drop)) != 0)
    if (n > 0 && len + 1 < size) len += (size_t)n;
    else if (n < 0 && errno != EINTR) break;
  close(fds[0]);
  while (len && out[len - 1] == '\n') len--;
  out[len] = 0;
  return pid < 0 ? 1 : wait_status(pid);
}

/* Run a file of commands (sh FILE, . FILE). */
int sh_source(const char *path, int argc, char **argv) {
  struct stat st;
  (void)argc, (void)argv;
  if (stat(path, &st) < 0) return warn("sh", path), 127;
  size_t size = (size_t)st.st_size + 1;
  char *text = malloc(size);
  if (!text || read_file(path, text, size) < 0) return warn("sh", path), 126;
  int status = sh_run_text(text);
  free(text);
  return status;
}
