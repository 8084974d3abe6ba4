/* sipwall admin token: a bearer token for the admin HTTP API (OPS2). */
#ifndef SW_CLI_CMD_ADMIN_H
#define SW_CLI_CMD_ADMIN_H

int	cmd_admin(int argc, char **argv);

#endif
