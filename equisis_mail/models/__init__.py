from . import ir_mail_server
from . import mail_mail
from . import res_users
from . import res_company
from . import res_config_settings
from . import equisis_letter
from . import account_move
from . import res_partner
