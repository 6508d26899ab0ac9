from dinamis_common.runtime import serve

from accounts_service.bootstrap import create_app
from accounts_service.settings import Settings

settings = Settings()
serve(create_app(settings), settings)
