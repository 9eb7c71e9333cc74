"""Flask-WTF 1.3: stubs for the part Felt uses (the package ships no types)."""

from flask_wtf.csrf import CSRFProtect as CSRFProtect
from flask_wtf.form import FlaskForm as FlaskForm
