"""The upload form: the kind of document and the file (its content is judged by the service, not the form)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.validators import DataRequired

from matchmaker.forms import options


class UploadForm(FlaskForm):
    # The service checks the kind against the object's list, with a Chinese message.
    kind = SelectField("附件类型", validators=[DataRequired("请选择附件类型")], validate_choice=False)
    file = FileField("文件", validators=[FileRequired("请选择要上传的文件")])

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = options([("", "请选择"), *kinds])
