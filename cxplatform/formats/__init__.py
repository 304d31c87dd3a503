"""One way to write dates, in every language and every place (pages, emails, exports):
"3 Mar 2027" and "3 Mar 2027, 14:05" (month names translated). Django's locale formats
differ per language ("March 3, 2027", "3. März 2027"), so the emails read differently
from the app; these modules override them (``FORMAT_MODULE_PATH``), so ``|date`` and
``formats.date_format(value, "DATE_FORMAT")`` give the app's format."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
