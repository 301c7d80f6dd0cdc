from . import test_install
from . import test_smtp_fixture
from . import test_res_users
from . import test_letter
from . import test_send
from . import test_mail_to
from . import test_translations
from . import test_hardening
