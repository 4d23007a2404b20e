/*
 * cards: Stripe's test card numbers (docs.stripe.com/testing) and what each does, one table.
 * Only these numbers are accepted, as in Stripe's test mode; any other is incorrect_number.
 */
#include <string.h>

#include "ss.h"

static const struct {
	const char *number;
	const char *brand;
	enum ss_card_outcome outcome;
} cards[] = {
	{ "4242424242424242", "visa", SS_CARD_OK },
	{ "4000056655665556", "visa", SS_CARD_OK },
	{ "5555555555554444", "mastercard", SS_CARD_OK },
	{ "378282246310005", "amex", SS_CARD_OK },
	{ "4000000000000002", "visa", SS_CARD_DECLINED },
	{ "4000000000009995", "visa", SS_CARD_INSUFFICIENT },
	{ "4000000000000341", "visa", SS_CARD_FAILS_LATER },
};

enum ss_card_outcome
ss_card_check(const char *number, const char **brand, char last4[5])
{
	char digits[32];
	size_t n = 0;

	*brand = "unknown";
	memcpy(last4, "0000", 5);
	for (const char *p = number; *p != '\0'; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (*p < '0' || *p > '9' || n + 1 >= sizeof(digits))
			return SS_CARD_INVALID;
		digits[n++] = *p;
	}
	digits[n] = '\0';
	for (size_t i = 0; i < sizeof(cards) / sizeof(cards[0]); i++) {
		if (strcmp(cards[i].number, digits) != 0)
			continue;
		*brand = cards[i].brand;
		memcpy(last4, digits + n - 4, 4);
		return cards[i].outcome;
	}
	return SS_CARD_INVALID;
}

const char *
ss_card_decline_code(enum ss_card_outcome o)
{
	switch (o) {
	case SS_CARD_DECLINED:
	case SS_CARD_FAILS_LATER:
		return "generic_decline";
	case SS_CARD_INSUFFICIENT:
		return "insufficient_funds";
	case SS_CARD_INVALID:
		return "incorrect_number";
	case SS_CARD_OK:
		break;
	}
	return "";
}

const char *
ss_card_message(enum ss_card_outcome o)
{
	switch (o) {
	case SS_CARD_DECLINED:
	case SS_CARD_FAILS_LATER:
		return "Your card was declined.";
	case SS_CARD_INSUFFICIENT:
		return "Your card has insufficient funds.";
	case SS_CARD_INVALID:
		return "Your card number is incorrect.";
	case SS_CARD_OK:
		break;
	}
	return "";
}
