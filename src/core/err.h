/*
 * Error codes of our own, returned negated like errno values.
 * They start far above any errno so the two never collide.
 */
#ifndef SW_CORE_ERR_H
#define SW_CORE_ERR_H

enum sbc_err {
	SBC_EPARSE = 10000,	/* input does not follow the grammar */
	SBC_ELIMIT,		/* input exceeds a configured bound */
	SBC_ESHORT,		/* input ends before the construct does */
	SBC_EINCOMPLETE,	/* stream needs more bytes */
	SBC_EFULL,		/* a bounded table or queue is full */
	SBC_ENOTFOUND,
	SBC_ERR_MAX
};

#endif
