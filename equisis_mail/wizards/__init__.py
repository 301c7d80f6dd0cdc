from . import equisis_mail_send
from . import equisis_mail_send_line
from . import equisis_mail_to
from . import base_partner_merge_automatic_wizard
