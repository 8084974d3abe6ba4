/*
 * Known weak and default passwords, as seen in VoIP brute-force
 * dictionaries (SIPVicious svcrack, honeypot logs), vendor defaults and
 * the usual top lists.  Lowercase; creds.c matches them ASCII-case-
 * insensitively and with common character substitutions (@->a, 0->o,
 * 3->e, $->s, ...).  Entries of WEAK_SUBSTR_MIN characters or more are
 * also refused when they appear inside a longer password
 * ("Password2024!"); shorter ones only match a whole password, which
 * the length rule already refuses, and stay here for completeness.
 *
 * Included by creds.c only.  Keep it sorted by theme, not alphabet.
 */
#ifndef SW_AUTH_WEAK_PASSWORDS_H
#define SW_AUTH_WEAK_PASSWORDS_H

#define WEAK_SUBSTR_MIN	6

static const char *const weak_passwords[] = {
	/* digits: runs, repeats, keypad shapes */
	"0000", "00000", "000000", "0000000", "00000000",
	"1111", "11111", "111111", "1111111", "11111111",
	"2222", "222222", "3333", "333333", "4444", "444444",
	"5555", "555555", "6666", "666666", "7777", "777777",
	"8888", "888888", "9999", "999999",
	"1212", "121212", "12121212", "1313", "131313", "1122", "112233",
	"1234", "12345", "123456", "1234567", "12345678", "123456789",
	"1234567890", "0123456789", "01234567", "123123", "123321",
	"4321", "54321", "654321", "7654321", "87654321", "987654321",
	"2580", "0852", "147258", "147258369", "159753", "159357", "963852",
	"112358", "696969", "131415", "142536", "102030", "010203",
	/* extension numbers used as passwords */
	"100", "101", "102", "103", "110", "200", "201", "300", "1000",
	"1001", "1002", "1003", "1010", "2000", "2001", "3000", "4000",
	"5000", "6000", "7000", "8000", "9000", "ext100", "ext1000",
	"extension", "extension1",
	/* keyboard walks */
	"qwerty", "qwerty1", "qwerty123", "qwertyuiop", "qwertz", "azerty",
	"asdf", "asdfgh", "asdfghjkl", "zxcvbn", "zxcvbnm", "qazwsx",
	"1qaz2wsx", "zaq12wsx", "1q2w3e", "1q2w3e4r", "1q2w3e4r5t",
	"qwe123", "asd123", "zxc123", "1qazxsw2",
	/* letters and letter+digit patterns */
	"abc", "abcd", "abcdef", "abcdefg", "abcdefgh", "abc123",
	"abcd1234", "a1b2c3", "123abc", "aaaaaa", "zzzzzz", "xxxxxx",
	/* the usual suspects */
	"password", "password1", "password12", "password123", "passw0rd",
	"p@ssw0rd", "pass", "pass123", "pass1234", "passwd", "pwd",
	"secret", "secret123", "topsecret", "admin", "admin1", "admin123",
	"admin1234", "admin@123", "administrator", "adminadmin", "root",
	"toor", "guest", "guest123", "user", "user123", "test", "test123",
	"test1234", "testing", "tester", "demo", "demo123", "default",
	"changeme", "changeit", "letmein", "welcome", "welcome1",
	"welcome123", "iloveyou", "monkey", "dragon", "master", "shadow",
	"sunshine", "princess", "football", "baseball", "superman",
	"batman", "trustno1", "starwars", "hello", "hello123", "freedom",
	"whatever", "access", "login", "temp", "temp123", "temppass",
	"nopassword", "blank", "none", "null", "system", "manager",
	"support", "service", "operator", "office", "company", "summer",
	"winter", "spring", "autumn", "qwerty12345",
	/* VoIP, PBX and phone vendor defaults */
	"voip", "voip123", "voip1234", "voipuser", "voippass", "voipvoip",
	"sip", "sip123", "sip1234", "sipuser", "sippass", "sippassword",
	"sipsip", "phone", "phone123", "telephone", "pbx", "pbx123",
	"pbxpbx", "ippbx", "asterisk", "asterisk1", "asterisk123",
	"freepbx", "freepbx1", "freeswitch", "elastix", "trixbox",
	"issabel", "vitalpbx", "fusionpbx", "3cx", "3cxphone", "kamailio",
	"opensips", "yealink", "polycom", "grandstream", "cisco", "snom",
	"avaya", "mitel", "gigaset", "panasonic", "fanvil", "linksys",
	"sipura", "voicemail", "vmail", "sbc", "trunk", "trunk123",
	"siptrunk", "provider", "callcenter", "reception", "conference",
	"sangoma", "switchvox", "obihai", "aastra",
};

#endif
